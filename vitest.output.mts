import type { Plugin } from "vite";

// What the test runs print: failures and counts by default; `VERBOSE=1` brings back everything
// (the gateway's log lines, workerd's traces, Vite's source-map warnings).

export const VERBOSE = Boolean(process.env.VERBOSE && process.env.VERBOSE !== "0");

/**
 * Vite's logger without the "Sourcemap for … points to missing source files" warnings: published
 * packages (stripe, litesvm) ship maps naming sources they leave out, nothing a test can act on.
 * A plugin, because Vitest replaces `customLogger` with its own.
 */
export function quietSourceMaps(): Plugin {
	return {
		name: "streampayments:quiet-source-maps",
		configResolved(config) {
			if (VERBOSE) return;
			const noise = /Sourcemap for .* points to (missing source files|a source file outside)/;
			const logger = config.logger;
			const { warn, warnOnce } = logger;
			logger.warn = (msg, options) => {
				if (!noise.test(msg)) warn(msg, options);
			};
			logger.warnOnce = (msg, options) => {
				if (!noise.test(msg)) warnOnce(msg, options);
			};
		},
	};
}

/**
 * Drops the gateway's structured log lines below `error` (src/lib/log.ts writes one JSON object
 * per line): a passing test's info and warnings are not news. Error lines still print, so a test
 * that expects one captures and asserts it (test/worker/helpers/logs.ts) instead.
 */
export function onConsoleLog(log: string): false | undefined {
	if (VERBOSE) return undefined;
	const level = /"level":"(debug|info|warn|error)"/.exec(log)?.[1];
	return level && level !== "error" ? false : undefined;
}

/** Dots and the failures with their counts; `VERBOSE=1` lists every file and slow test. */
export const reporters = VERBOSE ? ["default"] : ["dot"];
