import { invalidParam, missingParam, unknownParam } from "./errors.js";

// Stripe's request encoding: application/x-www-form-urlencoded with bracketed keys
// (`metadata[order_id]=42`, `expand[0]=latest_charge`, `expand[]=…`, `card[number]=…`), the same
// in a GET query string. The parser yields strings and nested objects only; a list is an object
// whose keys are indexes, turned into an array by Params.list, so `metadata[0]` stays a key.

export interface FormObject {
	[key: string]: FormValue;
}
export type FormValue = string | FormObject;

const KEY = /^([^[\]]+)((?:\[[^[\]]*\])*)$/;

function keyPath(key: string): string[] {
	const match = KEY.exec(key);
	if (!match) return [key];
	const rest = match[2] ?? "";
	const segments = rest === "" ? [] : rest.slice(1, -1).split("][");
	return [match[1] ?? key, ...segments];
}

export function parseForm(text: string): FormObject {
	const root: FormObject = {};
	for (const [key, value] of new URLSearchParams(text)) {
		const path = keyPath(key);
		let node = root;
		for (let i = 0; i < path.length; i++) {
			let segment = path[i] ?? "";
			// `a[]` appends: the next free index among the keys so far.
			if (segment === "" && i > 0) segment = String(Object.keys(node).length);
			if (i === path.length - 1) {
				node[segment] = value;
				break;
			}
			const next = node[segment];
			if (typeof next === "object") node = next;
			else {
				const created: FormObject = {};
				node[segment] = created;
				node = created;
			}
		}
	}
	return root;
}

/** Order-independent rendering of parameters, for comparing idempotent requests. */
export function canonicalParams(value: FormValue): string {
	if (typeof value === "string") return JSON.stringify(value);
	const keys = Object.keys(value).sort();
	return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalParams(value[k] as FormValue)}`).join(",")}}`;
}

export interface MetadataPatch {
	/** `metadata=` (empty) clears every key before `set` applies. */
	clear: boolean;
	/** A null value (`metadata[key]=`) removes that key. */
	set: Record<string, string | null>;
}

export function applyMetadata(
	current: Record<string, string>,
	patch: MetadataPatch | undefined,
): Record<string, string> {
	if (!patch) return current;
	const next: Record<string, string> = patch.clear ? {} : { ...current };
	for (const [key, value] of Object.entries(patch.set)) {
		if (value === null) delete next[key];
		else next[key] = value;
	}
	return next;
}

/** Typed reads of a form object, failing with Stripe's parameter errors and bracketed names. */
export class Params {
	constructor(
		readonly raw: FormObject,
		private readonly prefix = "",
	) {}

	name(key: string): string {
		return this.prefix === "" ? key : `${this.prefix}[${key}]`;
	}

	has(key: string): boolean {
		return this.raw[key] !== undefined;
	}

	/** Refuses any key not in `allowed`, naming the first one as Stripe does. */
	only(allowed: readonly string[]): this {
		for (const key of Object.keys(this.raw)) {
			if (!allowed.includes(key)) throw unknownParam(this.name(key));
		}
		return this;
	}

	string(key: string): string | undefined {
		const value = this.raw[key];
		if (value === undefined) return undefined;
		if (typeof value !== "string")
			throw invalidParam(`Invalid string: ${this.name(key)}`, this.name(key));
		return value;
	}

	requiredString(key: string): string {
		const value = this.string(key);
		if (value === undefined || value === "") throw missingParam(this.name(key));
		return value;
	}

	/** undefined when absent, null when sent empty (Stripe's way to unset a field). */
	nullableString(key: string, maxLength = 5000): string | null | undefined {
		const value = this.string(key);
		if (value === undefined) return undefined;
		if (value === "") return null;
		if (value.length > maxLength) {
			throw invalidParam(
				`Invalid string: ${value.slice(0, 20)}...; must be at most ${maxLength} characters`,
				this.name(key),
			);
		}
		return value;
	}

	integer(key: string): number | undefined {
		const value = this.string(key);
		if (value === undefined) return undefined;
		if (!/^-?\d{1,15}$/.test(value)) {
			throw invalidParam(`Invalid integer: ${value}`, this.name(key), "parameter_invalid_integer");
		}
		return Number(value);
	}

	positiveInteger(key: string): number | undefined {
		const value = this.integer(key);
		if (value !== undefined && value < 1) {
			throw invalidParam(
				"This value must be greater than or equal to 1.",
				this.name(key),
				"parameter_invalid_integer",
			);
		}
		return value;
	}

	boolean(key: string): boolean | undefined {
		const value = this.string(key);
		if (value === undefined || value === "") return undefined;
		if (value === "true") return true;
		if (value === "false") return false;
		throw invalidParam(`Invalid boolean: ${value}`, this.name(key));
	}

	enumeration<T extends string>(key: string, values: readonly T[]): T | undefined {
		const value = this.string(key);
		if (value === undefined || value === "") return undefined;
		if (!(values as readonly string[]).includes(value)) {
			const listed =
				values.length > 1
					? `${values.slice(0, -1).join(", ")}, or ${values[values.length - 1]}`
					: (values[0] ?? "");
			throw invalidParam(`Invalid ${this.name(key)}: must be one of ${listed}`, this.name(key));
		}
		return value as T;
	}

	object(key: string): Params | undefined {
		const value = this.raw[key];
		if (value === undefined || value === "") return undefined;
		if (typeof value === "string") {
			throw invalidParam(`Invalid object: ${this.name(key)}`, this.name(key));
		}
		return new Params(value, this.name(key));
	}

	/** `a[0]=x&a[1]=y` or `a[]=x&a[]=y`, in index order. */
	list(key: string): string[] | undefined {
		const value = this.raw[key];
		if (value === undefined) return undefined;
		if (value === "") return [];
		if (typeof value === "string" || !Object.keys(value).every((k) => /^\d+$/.test(k))) {
			throw invalidParam(`Invalid array: ${this.name(key)}`, this.name(key));
		}
		return Object.keys(value)
			.sort((a, b) => Number(a) - Number(b))
			.map((index) => {
				const item = value[index];
				if (typeof item !== "string") {
					throw invalidParam(
						`Invalid string: ${this.name(key)}[${index}]`,
						`${this.name(key)}[${index}]`,
					);
				}
				return item;
			});
	}

	/** Stripe's limits: 50 keys, keys up to 40 characters, values up to 500. */
	metadata(key = "metadata"): MetadataPatch | undefined {
		const value = this.raw[key];
		if (value === undefined) return undefined;
		if (value === "") return { clear: true, set: {} };
		if (typeof value === "string") throw invalidParam("Invalid hash", this.name(key));
		const set: Record<string, string | null> = {};
		for (const [name, item] of Object.entries(value)) {
			const param = `${this.name(key)}[${name}]`;
			if (typeof item !== "string") throw invalidParam("Invalid string", param);
			if (name.length > 40) {
				throw invalidParam(
					`Metadata keys can have up to 40 characters, but you passed in a key that is ${name.length} characters.`,
					param,
				);
			}
			if (item.length > 500) {
				throw invalidParam(
					`Metadata values can have up to 500 characters, but you passed in a value that is ${item.length} characters.`,
					param,
				);
			}
			set[name] = item === "" ? null : item;
		}
		if (Object.keys(set).length > 50) {
			throw invalidParam(
				"You can have up to 50 metadata keys, but you passed in more.",
				this.name(key),
			);
		}
		return { clear: false, set };
	}
}
