import { onTestFinished, vi } from "vitest";

/** One structured log line the gateway wrote (src/lib/log.ts). */
export type LogLine = Record<string, unknown> & { level: string; message: string };

/**
 * Captures the gateway's structured log lines for the rest of the current test instead of
 * printing them, so a test that provokes an error log asserts it rather than leaving it in the
 * output. Anything that is not a structured line still prints.
 */
export function captureLogs() {
	const lines: LogLine[] = [];
	for (const method of ["log", "info", "warn", "error", "debug"] as const) {
		const original = console[method].bind(console);
		const spy = vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
			const line = args.length === 1 && typeof args[0] === "string" ? parseLine(args[0]) : null;
			if (line) lines.push(line);
			else original(...args);
		});
		onTestFinished(() => spy.mockRestore());
	}
	return {
		lines,
		/** The lines at `level` whose message is `message`. */
		find: (level: LogLine["level"], message: string) =>
			lines.filter((line) => line.level === level && line.message === message),
	};
}

function parseLine(text: string): LogLine | null {
	if (!text.startsWith("{")) return null;
	try {
		const value: unknown = JSON.parse(text);
		if (typeof value !== "object" || value === null) return null;
		const { level, message } = value as Record<string, unknown>;
		return typeof level === "string" && typeof message === "string" ? (value as LogLine) : null;
	} catch {
		return null;
	}
}
