import { accessSync, constants } from "node:fs";

// The suite drives Debian's Chromium through playwright-core (no browser download): the one
// binary a developer's machine and CI both get from apt.

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export const CHROMIUM_INSTALL_COMMAND = "sudo apt-get update && sudo apt-get install -y chromium";

/** Throws a clear error (with the install command) when Chromium is not there. */
export function assertChromium(): void {
	try {
		accessSync(CHROMIUM_PATH, constants.X_OK);
	} catch {
		const how = process.env.CI
			? ".ci/run installs it before this suite; check that step's output."
			: `Install it with:\n\n    ${CHROMIUM_INSTALL_COMMAND}\n\nor point CHROMIUM_PATH at another Chromium binary.`;
		throw new Error(
			`The browser tests need Chromium at ${CHROMIUM_PATH}, and it is not there. ${how}`,
		);
	}
}
