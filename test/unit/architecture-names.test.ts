import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

// One name per idea: no two modules of the gateway export a function, class or constant under
// the same name, so a name found in one file means one thing everywhere. (The import rules —
// no cycles, a pure domain, data through src/db — are dependency-cruiser's, in npm test.)

const ROOT = path.join(import.meta.dirname, "../..");

function sources(dir: string): string[] {
	return readdirSync(dir).flatMap((name) => {
		const full = path.join(dir, name);
		if (statSync(full).isDirectory()) return name === "generated" ? [] : sources(full);
		return /\.tsx?$/.test(name) ? [full] : [];
	});
}

const EXPORTED = /^export (?:async )?(?:function\*? |class |const |let )([A-Za-z0-9_$]+)/gm;

describe("exported names", () => {
	it("are unique across src/ and durable-objects/", () => {
		const where = new Map<string, string[]>();
		for (const file of [
			...sources(path.join(ROOT, "src")),
			...sources(path.join(ROOT, "durable-objects")),
		]) {
			for (const m of readFileSync(file, "utf8").matchAll(EXPORTED)) {
				const name = m[1] as string;
				where.set(name, [...(where.get(name) ?? []), path.relative(ROOT, file)]);
			}
		}
		const clashes = [...where].filter(([, files]) => files.length > 1);
		expect(clashes).toEqual([]);
	});
});
