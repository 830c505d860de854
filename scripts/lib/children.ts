import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";

// Child processes for `npm run dev`: prefixed output, and whole-process-group shutdown so
// grandchildren (wrangler's workerd) do not outlive the script and hold ports.

export interface ExitInfo {
	code: number | null;
	signal: NodeJS.Signals | null;
}

export interface ManagedChild {
	name: string;
	process: ChildProcess;
	/** Settles once the child has exited (never rejects; spawn failures exit with code null). */
	exited: Promise<ExitInfo>;
}

export interface SpawnOptions {
	cwd: string;
	env: NodeJS.ProcessEnv;
	/** Own process group: the terminal's Ctrl-C goes to the script, which then stops the group. */
	detached: boolean;
	/** Shortens or drops (null) each output line before it is printed; all lines by default. */
	filter?: (line: string) => string | null;
}

export function describeExit({ code, signal }: ExitInfo): string {
	return signal ? `signal ${signal}` : `exit code ${code}`;
}

function pipeLines(
	stream: Readable | null,
	prefix: string,
	out: Writable,
	filter: SpawnOptions["filter"],
): void {
	if (!stream) return;
	const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
	lines.on("line", (line) => {
		const shown = filter ? filter(line) : line;
		if (shown !== null) out.write(`${prefix} ${shown}\n`);
	});
}

export function spawnPrefixed(
	name: string,
	command: string,
	args: readonly string[],
	options: SpawnOptions,
): ManagedChild {
	const child = spawn(command, args, {
		cwd: options.cwd,
		env: options.env,
		detached: options.detached && process.platform !== "win32",
		// No stdin: wrangler would otherwise offer hotkeys and fight the script for the TTY.
		stdio: ["ignore", "pipe", "pipe"],
	});
	const prefix = `[${name}]`;
	pipeLines(child.stdout, prefix, process.stdout, options.filter);
	pipeLines(child.stderr, prefix, process.stderr, options.filter);
	const exited = new Promise<ExitInfo>((resolve) => {
		child.once("error", (error) => {
			const line = options.filter
				? options.filter(`failed to start: ${error.message}`)
				: `failed to start: ${error.message}`;
			if (line !== null) process.stderr.write(`${prefix} ${line}\n`);
			resolve({ code: null, signal: null });
		});
		child.once("exit", (code, signal) => resolve({ code, signal }));
	});
	return { name, process: child, exited };
}

/** A child in the script's own process group, for short commands such as migrations. */
export function runPrefixed(
	name: string,
	command: string,
	args: readonly string[],
	options: Omit<SpawnOptions, "detached">,
): ManagedChild {
	return spawnPrefixed(name, command, args, { ...options, detached: false });
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals | 0): boolean {
	if (child.pid === undefined) return false;
	try {
		if (process.platform === "win32") {
			child.kill(signal);
		} else {
			// Negative pid: the whole group the detached child leads.
			process.kill(-child.pid, signal);
		}
		return true;
	} catch {
		// ESRCH: nothing left in the group.
		return false;
	}
}

function groupAlive(child: ChildProcess): boolean {
	// Signal 0 only probes for existence.
	return signalGroup(child, 0);
}

/**
 * SIGTERM to the child's process group, then SIGKILL for anything still alive after the
 * grace period. Resolves once the child itself has exited.
 */
export async function terminate(managed: ManagedChild, graceMs = 5_000): Promise<void> {
	const { process: child } = managed;
	const detached = child.pid !== undefined && process.platform !== "win32";
	const done = () =>
		child.exitCode !== null || child.signalCode !== null || child.pid === undefined;
	if (detached ? !groupAlive(child) && done() : done()) return;
	if (detached) signalGroup(child, "SIGTERM");
	else child.kill("SIGTERM");
	const deadline = Date.now() + graceMs;
	// Polling is the only portable way to see the whole group drain, not just the leader.
	while (Date.now() < deadline) {
		if (done() && (!detached || !groupAlive(child))) return;
		await sleep(50);
	}
	if (detached) signalGroup(child, "SIGKILL");
	else child.kill("SIGKILL");
	await managed.exited;
	// SIGKILL is not instant either; give the group a moment to disappear before callers
	// (the next `npm run dev`, a port check) assume its ports are free.
	const killDeadline = Date.now() + 1_000;
	while (detached && groupAlive(child) && Date.now() < killDeadline) await sleep(20);
}

/** True when nothing is listening on host:port (checked by binding it briefly). */
export function isPortFree(host: string, port: number): Promise<boolean> {
	return new Promise((resolve) => {
		const server = createServer();
		server.once("error", () => resolve(false));
		server.listen(port, host, () => server.close(() => resolve(true)));
	});
}
