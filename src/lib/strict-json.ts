/**
 * Checks a JSON request body before anything parses it into objects: a body must be one JSON
 * object, nested at most `maxDepth` levels, with no key given twice in one object (parsers
 * disagree on which one wins) and no `__proto__`, `constructor` or `prototype` key (prototype
 * pollution in code that merges bodies into objects). Returns a reason, or null when the body is
 * acceptable. Syntax errors are left to the JSON parser that runs next.
 */
export function strictJsonProblem(text: string, maxDepth = 32): string | null {
	const body = text.trimStart();
	if (body === "") return null;
	if (body[0] !== "{") return "The request body must be a JSON object.";
	// One frame per open object or array: the keys seen so far (objects only), and whether the
	// next string in an object is a key.
	const stack: { keys: Set<string> | null; expectKey: boolean }[] = [];
	for (let i = 0; i < body.length; i++) {
		const ch = body[i];
		if (ch === '"') {
			const end = stringEnd(body, i);
			if (end < 0) return null;
			const frame = stack.at(-1);
			if (frame?.keys && frame.expectKey) {
				let key: string;
				try {
					key = JSON.parse(body.slice(i, end + 1)) as string;
				} catch {
					return null;
				}
				if (key === "__proto__" || key === "constructor" || key === "prototype") {
					return `The key '${key}' is not allowed in a request body.`;
				}
				if (frame.keys.has(key)) return `The key '${key}' appears twice in one object.`;
				frame.keys.add(key);
				frame.expectKey = false;
			}
			i = end;
		} else if (ch === "{" || ch === "[") {
			if (stack.length >= maxDepth) {
				return `The request body is nested more than ${maxDepth} levels deep.`;
			}
			stack.push({ keys: ch === "{" ? new Set() : null, expectKey: ch === "{" });
		} else if (ch === "}" || ch === "]") {
			stack.pop();
		} else if (ch === ",") {
			const frame = stack.at(-1);
			if (frame?.keys) frame.expectKey = true;
		}
	}
	return null;
}

/** Index of the quote closing the string that opens at `start`, or -1 if it never closes. */
function stringEnd(text: string, start: number): number {
	for (let j = start + 1; j < text.length; j++) {
		const c = text[j];
		if (c === "\\") j++;
		else if (c === '"') return j;
	}
	return -1;
}
