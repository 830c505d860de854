import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { describeExit, spawnPrefixed, terminate } from "../../scripts/lib/children.js";

/** Zombies count as dead: they hold no ports, and some inits reap them only every second. */
function alive(pid: number): boolean {
	try {
		process.kill(pid, 0);
	} catch {
		return false;
	}
	if (!existsSync(`/proc/${pid}/stat`)) return true;
	try {
		return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.[0] !== "Z";
	} catch {
		return false;
	}
}

/** Spawns a grandchild that ignores SIGTERM, prints its pid, then idles. */
const GRANDCHILD = 'process.on("SIGTERM", () => {}); setInterval(() => {}, 1000)';
const PARENT = `
const { spawn } = require("node:child_process");
const g = spawn(process.execPath, ["-e", ${JSON.stringify(GRANDCHILD)}], { stdio: "ignore" });
console.log("grandchild " + g.pid);
setInterval(() => {}, 1000);
`;

function grandchildPid(child: ReturnType<typeof spawnPrefixed>): Promise<number> {
	return new Promise((resolve) => {
		child.process.stdout?.on("data", (chunk: Buffer) => {
			const match = /grandchild (\d+)/.exec(chunk.toString());
			if (match) resolve(Number(match[1]));
		});
	});
}

describe.skipIf(process.platform === "win32")("process-group shutdown", () => {
	it("stops the whole group, escalating to SIGKILL for members that ignore SIGTERM", async () => {
		const child = spawnPrefixed("t", process.execPath, ["-e", PARENT], {
			cwd: process.cwd(),
			env: process.env,
			detached: true,
			// The test reads the output itself; nothing to print.
			filter: () => null,
		});
		const grandchild = await grandchildPid(child);
		expect(alive(grandchild)).toBe(true);
		await terminate(child, 300);
		expect(describeExit(await child.exited)).toBe("signal SIGTERM");
		expect(alive(grandchild)).toBe(false);
	});

	it("reports a spawn failure as an exit", async () => {
		const child = spawnPrefixed("t", "/nonexistent/binary", [], {
			cwd: process.cwd(),
			env: process.env,
			detached: true,
			// The test reads the output itself; nothing to print.
			filter: () => null,
		});
		expect(await child.exited).toEqual({ code: null, signal: null });
		await terminate(child);
	});
});
