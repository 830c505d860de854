import { call } from "../../worker/helpers/api";

export type Security = "bearer" | "admin" | "public";

/** The parts of an OpenAPI schema object the security suite reads. */
export interface SchemaObject {
	$ref?: string;
	type?: string | string[];
	properties?: Record<string, SchemaObject>;
	required?: string[];
	additionalProperties?: boolean | SchemaObject;
	items?: SchemaObject;
	enum?: unknown[];
	anyOf?: SchemaObject[];
	oneOf?: SchemaObject[];
	allOf?: SchemaObject[];
	minimum?: number;
	maximum?: number;
	exclusiveMinimum?: number;
	minLength?: number;
	maxLength?: number;
	pattern?: string;
	default?: unknown;
}

interface ParameterObject {
	name: string;
	in: "path" | "query" | "header" | "cookie";
	required?: boolean;
	schema?: SchemaObject;
}

interface OperationObject {
	security?: Record<string, unknown>[];
	parameters?: ParameterObject[];
	requestBody?: { content?: Record<string, { schema?: SchemaObject }> };
}

export interface OpenApiDocument {
	openapi: string;
	paths: Record<string, Record<string, OperationObject>>;
	components?: { schemas?: Record<string, SchemaObject> };
}

/** One method on one path of the served document. */
export interface Operation {
	method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
	/** The template as documented: `/v1/payments/{id}/cancel`. */
	path: string;
	security: Security;
	pathParams: string[];
	queryParams: ParameterObject[];
	/** The JSON body schema with `$ref`s resolved, if the operation takes a body. */
	body: SchemaObject | undefined;
}

/** Fetches the document the gateway serves, exactly as an integrator (or an attacker) would. */
export async function fetchDocument(): Promise<OpenApiDocument> {
	const res = await call("GET", "/v1/openapi.json");
	if (res.status !== 200) throw new Error(`GET /v1/openapi.json: ${res.status}`);
	return (await res.json()) as OpenApiDocument;
}

/** Inlines `#/components/schemas/…` references (the documents's schemas are not recursive). */
export function resolve(doc: OpenApiDocument, schema: SchemaObject, depth = 0): SchemaObject {
	if (depth > 20) throw new Error("schema nesting too deep to resolve");
	if (schema.$ref) {
		const name = schema.$ref.replace("#/components/schemas/", "");
		const target = doc.components?.schemas?.[name];
		if (!target) throw new Error(`unresolvable $ref ${schema.$ref}`);
		return resolve(doc, target, depth + 1);
	}
	const out: SchemaObject = { ...schema };
	if (schema.properties) {
		out.properties = Object.fromEntries(
			Object.entries(schema.properties).map(([k, v]) => [k, resolve(doc, v, depth + 1)]),
		);
	}
	if (schema.items) out.items = resolve(doc, schema.items, depth + 1);
	if (typeof schema.additionalProperties === "object")
		out.additionalProperties = resolve(doc, schema.additionalProperties, depth + 1);
	for (const key of ["anyOf", "oneOf", "allOf"] as const) {
		const list = schema[key];
		if (list) out[key] = list.map((s) => resolve(doc, s, depth + 1));
	}
	return out;
}

export function operations(doc: OpenApiDocument): Operation[] {
	const ops: Operation[] = [];
	for (const [path, methods] of Object.entries(doc.paths)) {
		for (const [method, op] of Object.entries(methods)) {
			const schemes = (op.security ?? []).flatMap((s) => Object.keys(s));
			const security: Security = schemes.includes("adminAuth")
				? "admin"
				: schemes.includes("bearerAuth")
					? "bearer"
					: "public";
			const jsonBody = op.requestBody?.content?.["application/json"]?.schema;
			ops.push({
				method: method.toUpperCase() as Operation["method"],
				path,
				security,
				pathParams: [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1] as string),
				queryParams: (op.parameters ?? []).filter((p) => p.in === "query"),
				body: jsonBody ? resolve(doc, jsonBody) : undefined,
			});
		}
	}
	return ops;
}

/** `/v1/payments/{id}` with `{ id: "pay_…" }` → `/v1/payments/pay_…`. */
export function fill(template: string, params: Record<string, string>): string {
	return template.replace(/\{(\w+)\}/g, (_, name: string) => {
		const value = params[name];
		if (value === undefined) throw new Error(`no value for {${name}} in ${template}`);
		return encodeURIComponent(value);
	});
}

export function label(op: Pick<Operation, "method" | "path">): string {
	return `${op.method} ${op.path}`;
}
