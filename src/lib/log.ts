/** Structured logs: one JSON object per line, picked up by Workers Logs. */
export function log(
	level: "debug" | "info" | "warn" | "error",
	message: string,
	fields: Record<string, unknown> = {},
): void {
	const line = JSON.stringify({ level, message, ...fields });
	if (level === "error") console.error(line);
	else if (level === "warn") console.warn(line);
	else console.log(line);
}
