import { constants } from "node:fs";
import { copyFile, readFile } from "node:fs/promises";
import { join } from "node:path";
import { DEV_VARS_EXAMPLE_FILE, DEV_VARS_FILE } from "./paths.js";

// `.dev.vars` is wrangler dev's dotenv-style secrets file; scripts read ADMIN_TOKEN from it.

const LINE = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/;

/** The dotenv subset wrangler understands: comments, `export`, quotes, inline `#` comments. */
export function parseDevVars(text: string): Record<string, string> {
	const vars: Record<string, string> = {};
	for (const raw of text.split(/\r?\n/)) {
		const line = raw.trim();
		if (line === "" || line.startsWith("#")) continue;
		const match = LINE.exec(line);
		if (!match) continue;
		const key = match[1] as string;
		let value = (match[2] ?? "").trim();
		const quote = value[0];
		if ((quote === '"' || quote === "'" || quote === "`") && value.indexOf(quote, 1) > 0) {
			value = value.slice(1, value.indexOf(quote, 1));
			if (quote === '"') value = value.replace(/\\n/g, "\n").replace(/\\r/g, "\r");
		} else {
			const hash = value.indexOf("#");
			if (hash >= 0) value = value.slice(0, hash).trim();
		}
		vars[key] = value;
	}
	return vars;
}

/** Undefined when the file does not exist; other read errors propagate. */
export async function readDevVars(root: string): Promise<Record<string, string> | undefined> {
	try {
		return parseDevVars(await readFile(join(root, DEV_VARS_FILE), "utf8"));
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
		throw error;
	}
}

/** Copies `.dev.vars.example` to `.dev.vars` unless it exists; true when it created it. */
export async function ensureDevVars(root: string): Promise<boolean> {
	try {
		// COPYFILE_EXCL: never overwrite a developer's own secrets.
		await copyFile(
			join(root, DEV_VARS_EXAMPLE_FILE),
			join(root, DEV_VARS_FILE),
			constants.COPYFILE_EXCL,
		);
		return true;
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
		throw error;
	}
}

/** ADMIN_TOKEN from the environment first, then `.dev.vars`; undefined when neither has one. */
export async function resolveAdminToken(
	root: string,
	env: NodeJS.ProcessEnv,
): Promise<string | undefined> {
	const fromEnv = env.ADMIN_TOKEN?.trim();
	if (fromEnv) return fromEnv;
	const fromFile = (await readDevVars(root))?.ADMIN_TOKEN?.trim();
	return fromFile ? fromFile : undefined;
}
