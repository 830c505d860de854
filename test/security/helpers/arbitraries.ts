import fc from "fast-check";
import type { SchemaObject } from "./openapi";

// Request generators read from the OpenAPI schemas: mostly values near what the schema allows
// (its enums, its bounds and one past them, empty and maximal strings), mixed with values of the
// wrong type, nulls, unicode (lone surrogates included) and arbitrary JSON.

const hostileStrings = fc.constantFrom(
	"",
	" ",
	"\u0000",
	"\u202e\u0645\u0631\u062d\u0628\u0627",
	"\ud800",
	"💸".repeat(50),
	"' OR 1=1 --",
	"<script>alert(1)</script>",
	"../../etc/passwd",
	"%00%2e%2e",
	"__proto__",
	"constructor",
	"1e309",
	"-0",
	"null",
);

const hostileNumbers = fc.constantFrom(
	0,
	-0,
	-1,
	0.5,
	1e-7,
	2 ** 31,
	2 ** 53,
	2 ** 53 + 2,
	-(2 ** 63),
	1e308,
	-1e308,
	Number.MAX_SAFE_INTEGER,
	Number.MIN_SAFE_INTEGER,
);

const wrongType: fc.Arbitrary<unknown> = fc.oneof(
	fc.constant(null),
	fc.boolean(),
	hostileNumbers,
	hostileStrings,
	fc.constant([]),
	fc.constant({}),
	fc.jsonValue({ maxDepth: 2 }),
);

function types(schema: SchemaObject): string[] {
	if (Array.isArray(schema.type)) return schema.type;
	if (schema.type) return [schema.type];
	if (schema.properties) return ["object"];
	return [];
}

function stringFor(schema: SchemaObject): fc.Arbitrary<string> {
	const max = schema.maxLength ?? 64;
	const min = schema.minLength ?? 0;
	const options: fc.Arbitrary<string>[] = [
		fc.string({ maxLength: Math.min(max, 40) }),
		fc.string({ unit: "binary", maxLength: 20 }),
		hostileStrings,
		fc.constant("x".repeat(Math.min(max, 5_000))),
		fc.constant("x".repeat(Math.min(max + 1, 5_001))),
	];
	if (min > 0) options.push(fc.constant("x".repeat(min - 1)));
	if (schema.pattern) {
		try {
			options.push(fc.stringMatching(new RegExp(schema.pattern)));
		} catch {
			// A pattern fast-check cannot read: the other options still cover the field.
		}
	}
	return fc.oneof(...options);
}

function numberFor(schema: SchemaObject, integer: boolean): fc.Arbitrary<number> {
	const min = schema.minimum ?? schema.exclusiveMinimum ?? -1_000_000;
	const max = schema.maximum ?? 1_000_000_000_000;
	const edges = [min, max, min - 1, max + 1, 0].filter((n) => Number.isFinite(n));
	return fc.oneof(
		integer
			? fc.integer({
					min: Math.max(min, Number.MIN_SAFE_INTEGER),
					max: Math.min(max, Number.MAX_SAFE_INTEGER),
				})
			: fc.double({ min, max, noNaN: true }),
		fc.constantFrom(...edges),
		hostileNumbers,
	);
}

/** A value for `schema`: usually near-valid, sometimes of the wrong type. */
export function valueFor(schema: SchemaObject, depth = 0): fc.Arbitrary<unknown> {
	const options: fc.Arbitrary<unknown>[] = [];
	if (schema.enum) options.push(fc.constantFrom(...schema.enum));
	for (const alt of [...(schema.anyOf ?? []), ...(schema.oneOf ?? []), ...(schema.allOf ?? [])])
		options.push(valueFor(alt, depth + 1));
	for (const type of types(schema)) {
		if (type === "string") options.push(stringFor(schema));
		if (type === "integer") options.push(numberFor(schema, true));
		if (type === "number") options.push(numberFor(schema, false));
		if (type === "boolean") options.push(fc.boolean());
		if (type === "null") options.push(fc.constant(null));
		if (type === "array" && depth < 4)
			options.push(fc.array(valueFor(schema.items ?? {}, depth + 1), { maxLength: 4 }));
		if (type === "object" && depth < 4) options.push(objectFor(schema, depth + 1));
	}
	if (options.length === 0) return wrongType;
	return fc.oneof(
		{ weight: 5, arbitrary: fc.oneof(...options) },
		{ weight: 1, arbitrary: wrongType },
	);
}

function objectFor(schema: SchemaObject, depth: number): fc.Arbitrary<Record<string, unknown>> {
	const props = schema.properties ?? {};
	const known = fc.record(
		Object.fromEntries(Object.entries(props).map(([k, v]) => [k, valueFor(v, depth)])),
		{ requiredKeys: [] },
	) as fc.Arbitrary<Record<string, unknown>>;
	const extra =
		typeof schema.additionalProperties === "object"
			? fc.dictionary(fc.string({ maxLength: 12 }), valueFor(schema.additionalProperties, depth), {
					maxKeys: 4,
				})
			: fc.oneof(
					{ weight: 4, arbitrary: fc.constant({}) },
					{
						weight: 1,
						arbitrary: fc.dictionary(fc.string({ maxLength: 12 }), wrongType, { maxKeys: 2 }),
					},
				);
	return fc.tuple(known, extra).map(([a, b]) => ({ ...b, ...a }));
}

/** A raw request body for `schema`: mostly JSON from the schema, sometimes not an object at all. */
export function bodyFor(schema: SchemaObject): fc.Arbitrary<string> {
	return fc.oneof(
		{ weight: 8, arbitrary: objectFor(schema, 0).map((v) => JSON.stringify(v)) },
		{ weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
		{
			weight: 1,
			arbitrary: fc.constantFrom(
				"",
				"{",
				"}",
				"[",
				"null",
				'{"a":',
				"{'a':1}",
				"\ufeff{}",
				"{}{}",
				"NaN",
			),
		},
	);
}

/** A query string for documented parameters (and an unknown one now and then). */
export function queryFor(params: { name: string; schema?: SchemaObject }[]): fc.Arbitrary<string> {
	const pairs = params.map((p) =>
		fc
			.option(
				fc.oneof(
					valueFor(p.schema ?? {}).map((v) =>
						typeof v === "string" ? v : (JSON.stringify(v) ?? ""),
					),
					fc.string({ maxLength: 30 }),
				),
				{ nil: undefined },
			)
			.map((v) => [p.name, v] as const),
	);
	return fc
		.tuple(
			fc.tuple(...pairs),
			fc.option(fc.tuple(fc.string({ maxLength: 10 }), fc.string({ maxLength: 10 }))),
		)
		.map(([documented, unknown]) => {
			const q = new URLSearchParams();
			for (const [k, v] of documented) if (v !== undefined) q.append(k, v);
			if (unknown) q.append(unknown[0], unknown[1]);
			return q.toString();
		});
}
