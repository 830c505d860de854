import { formatBaseUnits } from "./money";

/**
 * Solana Pay URLs, as the specification defines them
 * (https://docs.solanapay.com/spec): a transfer request carries everything a wallet needs to
 * build the transfer itself; a transaction request points the wallet at our endpoint, which
 * builds the transaction for it.
 */
export interface TransferRequest {
	/** The recipient's wallet (owner) address, never a token account. */
	recipient: string;
	/** Base units of the token (lamports for SOL). */
	amount: bigint;
	decimals: number;
	/** The mint for an SPL token; absent for native SOL. */
	splToken?: string | undefined;
	references: string[];
	label?: string | undefined;
	message?: string | undefined;
	memo?: string | undefined;
}

const BASE58_ADDRESS = /^[1-9A-HJ-NP-Za-km-z]{32,44}$/;

function component(value: string): string {
	// encodeURIComponent leaves !'()* alone; wallets' URL parsers accept them, but encoding them
	// too keeps the URL unambiguous everywhere it is pasted.
	return encodeURIComponent(value).replace(
		/[!'()*]/g,
		(c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
	);
}

export function encodeTransferRequest(request: TransferRequest): string {
	if (!BASE58_ADDRESS.test(request.recipient))
		throw new Error("recipient must be a base58 address");
	if (request.splToken !== undefined && !BASE58_ADDRESS.test(request.splToken)) {
		throw new Error("spl-token must be a base58 mint address");
	}
	const params: string[] = [];
	// User units, never scientific notation, never more decimals than the mint has.
	params.push(`amount=${formatBaseUnits(request.amount, request.decimals)}`);
	if (request.splToken) params.push(`spl-token=${request.splToken}`);
	for (const reference of request.references) {
		if (!BASE58_ADDRESS.test(reference)) throw new Error("reference must be a base58 address");
		params.push(`reference=${reference}`);
	}
	if (request.label) params.push(`label=${component(request.label)}`);
	if (request.message) params.push(`message=${component(request.message)}`);
	if (request.memo) params.push(`memo=${component(request.memo)}`);
	return `solana:${request.recipient}?${params.join("&")}`;
}

/**
 * A transaction request URL: `solana:` followed by the absolute https link, percent-encoded when
 * the link has a query string (as the specification requires) so wallets can tell the link's own
 * parameters from the URL's.
 */
export function encodeTransactionRequest(
	link: string,
	options: { label?: string; message?: string } = {},
): string {
	const url = new URL(link);
	const body = url.search ? component(url.toString()) : url.toString().replace(/\/$/, "");
	const params: string[] = [];
	if (options.label) params.push(`label=${component(options.label)}`);
	if (options.message) params.push(`message=${component(options.message)}`);
	return `solana:${body}${params.length ? `?${params.join("&")}` : ""}`;
}

/** Parses a transfer request URL back; used to check our own URLs the way a wallet reads them. */
export function parseTransferRequest(url: string): {
	recipient: string;
	amount: string | null;
	splToken: string | null;
	references: string[];
	label: string | null;
	message: string | null;
	memo: string | null;
} {
	if (!url.startsWith("solana:")) throw new Error("not a solana: URL");
	const [recipient = "", query = ""] = url.slice("solana:".length).split("?", 2);
	const params = new URLSearchParams(query);
	return {
		recipient: decodeURIComponent(recipient),
		amount: params.get("amount"),
		splToken: params.get("spl-token"),
		references: params.getAll("reference"),
		label: params.get("label"),
		message: params.get("message"),
		memo: params.get("memo"),
	};
}
