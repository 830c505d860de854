import { z } from "@hono/zod-openapi";
import { cors } from "hono/cors";
import { isId } from "../domain/ids";
import { ApiError, notFound } from "../lib/errors";
import { log } from "../lib/log";
import { SolanaRpcError } from "../processors/solana/rpc";
import { buildPaymentTransaction } from "../processors/solana/transaction";
import { getMerchant } from "../services/merchants";
import { paymentStub } from "../services/payments";
import { quoteRemainder } from "../services/solana-quote";
import type { App } from "../types";
import { jsonBody, jsonResponse, publicRoute } from "./define";
import { errorResponses } from "./schemas";

const Params = z.object({ id: z.string().openapi({ param: { name: "id", in: "path" } }) });

const describeRequest = publicRoute({
	method: "get",
	path: "/solana-pay/{id}",
	tags: ["Solana Pay"],
	summary: "Transaction request: label and icon",
	description: "The GET of a Solana Pay transaction request; wallets show the label and icon.",
	request: { params: Params },
	responses: {
		200: jsonResponse("Label and icon", z.object({ label: z.string(), icon: z.string() })),
		...errorResponses(404),
	},
});

const buildRequest = publicRoute({
	method: "post",
	path: "/solana-pay/{id}",
	tags: ["Solana Pay"],
	summary: "Transaction request: the transaction for the payer's account",
	description:
		"The POST of a Solana Pay transaction request: returns the unsigned transaction (base64) that pays this payment's quote from `account`, for the wallet to sign and send.",
	request: {
		params: Params,
		body: jsonBody(
			z.object({
				account: z.string().regex(/^[1-9A-HJ-NP-Za-km-z]{32,44}$/, "must be a base58 address"),
			}),
		),
	},
	responses: {
		200: jsonResponse(
			"The transaction",
			z.object({ transaction: z.string(), message: z.string() }),
		),
		...errorResponses(400, 404, 409),
	},
});

async function openSolanaPayment(env: Parameters<typeof paymentStub>[0], id: string) {
	const payment = isId("payment", id) ? await paymentStub(env, id).get() : null;
	if (!payment?.solana) throw notFound("payment", id);
	return { payment, solana: payment.solana };
}

/** Solana Pay transaction requests, authorised by the payment's unguessable id alone. */
export function registerSolanaPay(app: App): void {
	// Wallets call these from other origins, so the specification requires open CORS.
	app.use("/solana-pay/*", cors({ origin: "*", allowMethods: ["GET", "POST", "OPTIONS"] }));

	app.openapi(describeRequest, async (c) => {
		const { payment } = await openSolanaPayment(c.env, c.req.valid("param").id);
		const merchant = await getMerchant(c.env.DB, payment.merchant_id);
		return c.json(
			{
				label: merchant?.name ?? "StreamPayments",
				icon: new URL("/favicon.svg", c.env.PUBLIC_BASE_URL).toString(),
			},
			200,
		);
	});

	app.openapi(buildRequest, async (c) => {
		const { id } = c.req.valid("param");
		const { payment, solana } = await openSolanaPayment(c.env, id);
		if (payment.status !== "requires_payment") {
			throw new ApiError(
				"payment_unexpected_state",
				`This payment is ${payment.status.replace("_", " ")}.`,
			);
		}
		let quoted = solana;
		if (solana.quote.expires_at <= Math.floor(Date.now() / 1000)) {
			// The quote's hold ended while the payment is open: the wallet asking is the payer, so the
			// rest of the price is quoted afresh (as the checkout would) instead of refusing.
			const fresh = await quoteRemainder(c.env, payment, solana.token);
			const updated = await paymentStub(c.env, id).updateSolana(fresh);
			if (!updated.ok || !updated.payment.solana) {
				throw new ApiError(
					"payment_unexpected_state",
					updated.ok ? "Not payable in crypto." : updated.message,
				);
			}
			quoted = updated.payment.solana;
		}
		const { transaction } = await buildPaymentTransaction(
			c.var.services.solana,
			quoted,
			c.req.valid("json").account,
		).catch((err: unknown) => {
			// The RPC failing (down, rate-limited, answering garbage) is the processor's error, not ours.
			if (!(err instanceof SolanaRpcError)) throw err;
			log("warn", "solana rpc failed", {
				action: "build a transaction request",
				error: err.message,
			});
			throw new ApiError(
				"processor_error",
				"The Solana network could not be reached to build the transaction. Retry shortly.",
			);
		});
		// The wallet is about to send: watch the chain closely for the next minute.
		c.executionCtx.waitUntil(paymentStub(c.env, id).touch("hot"));
		return c.json({ transaction, message: payment.description ?? `Payment ${payment.id}` }, 200);
	});
}
