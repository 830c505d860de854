/** Structured logs: one JSON object per line, picked up by Workers Logs. */
export function log(
	level: "debug" | "info" | "warn" | "error",
	message: string,
	fields: Record<string, unknown> = {},
): void {
	// Fields never overwrite the level or the message.
	const line = JSON.stringify({ ...fields, level, message });
	if (level === "error") console.error(line);
	else if (level === "warn") console.warn(line);
	else console.log(line);
}
