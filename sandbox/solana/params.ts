import { COMMITMENTS, type Commitment } from "./clock.js";
import { fromBase58, U64_MAX } from "./encoding.js";
import { invalidParams, RPC_MIN_CONTEXT_SLOT_NOT_REACHED } from "./errors.js";
import { JsonRpcError } from "./rpc-server.js";

// Positional-parameter parsing with the validator's error texts (jsonrpc-core + serde).

export type Config = Record<string, unknown>;

function unexpected(value: unknown): string {
	if (value === null) return "null";
	if (typeof value === "boolean") return `boolean \`${value}\``;
	if (typeof value === "number") {
		return Number.isInteger(value) ? `integer \`${value}\`` : `floating point \`${value}\``;
	}
	if (typeof value === "bigint") return `integer \`${value}\``;
	if (typeof value === "string") return `string ${JSON.stringify(value)}`;
	return Array.isArray(value) ? "sequence" : "map";
}

export function wrongType(value: unknown, expected: string): JsonRpcError {
	return invalidParams(`Invalid params: invalid type: ${unexpected(value)}, expected ${expected}.`);
}

/** Solana methods take positional params; `required` is how many must be present. */
export function positional(params: unknown, required: number): unknown[] {
	if (params === undefined || params === null) params = [];
	if (!Array.isArray(params)) throw wrongType(params, "a sequence");
	if (params.length < required) {
		throw invalidParams(`\`params\` should have at least ${required} argument(s)`);
	}
	return params;
}

export function stringParam(value: unknown): string {
	if (typeof value !== "string") throw wrongType(value, "a string");
	return value;
}

function keyError(text: string, size: number): string | undefined {
	try {
		return fromBase58(text).length === size ? undefined : "WrongSize";
	} catch {
		return "Invalid";
	}
}

export function pubkeyParam(value: unknown): string {
	const text = stringParam(value);
	const error = text.length > 44 ? "WrongSize" : keyError(text, 32);
	if (error) throw invalidParams(`Invalid param: ${error}`);
	return text;
}

export function signatureParam(value: unknown): string {
	const text = stringParam(value);
	const error = text.length > 88 ? "WrongSize" : keyError(text, 64);
	if (error) throw invalidParams(`Invalid param: ${error}`);
	return text;
}

/** A JSON integer from 0 to u64::MAX; parseJson hands those past 2^53 over as bigint. */
export function u64Param(value: unknown, what = "u64"): bigint {
	if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
	if (typeof value === "bigint" && value >= 0n && value <= U64_MAX) return value;
	throw wrongType(value, what);
}

/** An amount of lamports or base units: a u64 JSON integer, or the same as a decimal string. */
export function u64AmountParam(value: unknown, what = "u64"): bigint {
	if (typeof value === "string" && /^\d{1,20}$/.test(value) && BigInt(value) <= U64_MAX) {
		return BigInt(value);
	}
	return u64Param(value, what);
}

export function configParam(value: unknown): Config {
	if (value === undefined || value === null) return {};
	if (typeof value !== "object" || Array.isArray(value)) throw wrongType(value, "a map");
	return value as Config;
}

export function commitmentOf(config: Config, fallback: Commitment = "finalized"): Commitment {
	const value = config.commitment;
	if (value === undefined || value === null) return fallback;
	if (typeof value === "string" && (COMMITMENTS as string[]).includes(value)) {
		return value as Commitment;
	}
	throw invalidParams(
		`Invalid params: unknown variant \`${String(value)}\`, expected one of \`processed\`, \`confirmed\`, \`finalized\`.`,
	);
}

/** getTransaction and getSignaturesForAddress refuse `processed`, as validators do. */
export function confirmedCommitmentOf(config: Config): Commitment {
	const commitment = commitmentOf(config);
	if (commitment === "processed") {
		throw invalidParams("Method does not support commitment below `confirmed`");
	}
	return commitment;
}

export function encodingOf<T extends string>(
	config: Config,
	allowed: readonly T[],
	fallback: T,
): T {
	const value = config.encoding;
	if (value === undefined || value === null) return fallback;
	if (typeof value === "string" && (allowed as readonly string[]).includes(value))
		return value as T;
	throw invalidParams(
		`Invalid params: unknown variant \`${String(value)}\`, expected one of ${allowed.map((a) => `\`${a}\``).join(", ")}.`,
	);
}

export function booleanOption(config: Config, key: string, fallback: boolean): boolean {
	const value = config[key];
	if (value === undefined || value === null) return fallback;
	if (typeof value !== "boolean") throw wrongType(value, "a boolean");
	return value;
}

/** minContextSlot: refuse to answer from a bank older than the client has already seen. */
export function checkMinContextSlot(config: Config, contextSlot: number): void {
	const min = config.minContextSlot;
	if (min === undefined || min === null) return;
	const slot = u64Param(min);
	if (slot > BigInt(contextSlot)) {
		throw new JsonRpcError(
			RPC_MIN_CONTEXT_SLOT_NOT_REACHED,
			"Minimum context slot has not been reached",
			{
				contextSlot,
			},
		);
	}
}
