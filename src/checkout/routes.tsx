import { formatMinorUnits } from "../domain/money";
import { isId } from "../lib/ids";
import { getMerchant } from "../services/merchants";
import { paymentStub } from "../services/payments";
import type { App } from "../types";

const STATUS_TEXT: Record<string, string> = {
	requires_payment: "Waiting for payment",
	processing: "Confirming payment",
	succeeded: "Paid",
	expired: "This payment has expired",
	canceled: "This payment was canceled",
	failed: "This payment failed",
};

const CSP =
	"default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/**
 * The payer's page for a payment, authorised by the payment's unguessable id alone. It shows
 * only what the payer needs: never metadata, keys or merchant internals.
 */
const ICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" rx="14" fill="#111"/><path d="M18 40c8 6 20 6 28 0M18 24c8-6 20-6 28 0" stroke="#14f195" stroke-width="6" fill="none" stroke-linecap="round"/></svg>`;

export function registerCheckout(app: App): void {
	// Wallets show this next to the merchant's name in a Solana Pay transaction request.
	app.get("/favicon.svg", (c) => {
		c.header("Content-Type", "image/svg+xml");
		c.header("Cache-Control", "public, max-age=86400");
		return c.body(ICON);
	});

	app.get("/checkout/:id", async (c) => {
		const id = c.req.param("id");
		c.header("Content-Security-Policy", CSP);
		c.header("X-Content-Type-Options", "nosniff");
		c.header("Referrer-Policy", "no-referrer");
		c.header("Cache-Control", "no-store");
		const payment = isId("payment", id) ? await paymentStub(c.env, id).get() : null;
		if (!payment) {
			c.status(404);
			return c.html(
				<Page title="Payment not found">
					<h1>Payment not found</h1>
					<p>Check the link you were given, or ask the merchant for a new one.</p>
				</Page>,
			);
		}
		const merchant = await getMerchant(c.env.DB, payment.merchant_id);
		if (payment.solana && payment.status === "requires_payment") {
			// The payer is looking at the page: the payment's object watches the chain more often.
			c.executionCtx.waitUntil(paymentStub(c.env, id).touch("watched"));
		}
		const amount = `${formatMinorUnits(payment.amount, payment.currency)} ${payment.currency.toUpperCase()}`;
		return c.html(
			<Page title={`Pay ${merchant?.name ?? ""}`}>
				<p class="merchant">{merchant?.name}</p>
				<h1>{amount}</h1>
				{payment.description ? <p>{payment.description}</p> : null}
				<p class="status" data-status={payment.status}>
					{STATUS_TEXT[payment.status]}
				</p>
				{payment.status === "requires_payment" ? (
					<p>
						Pay before{" "}
						<time datetime={new Date(payment.expires_at * 1000).toISOString()}>
							{new Date(payment.expires_at * 1000).toUTCString()}
						</time>
						. Accepted: {payment.payment_method_types.join(", ")}.
					</p>
				) : null}
				{!payment.livemode ? <p class="test">Test mode: no real money moves.</p> : null}
			</Page>,
		);
	});
}

function Page(props: { title: string; children: unknown }) {
	return (
		<html lang="en">
			<head>
				<meta charset="utf-8" />
				<meta name="viewport" content="width=device-width, initial-scale=1" />
				<title>{props.title}</title>
				<style>{`body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#111}
h1{font-size:2rem;margin:.25rem 0}.merchant{color:#333;font-weight:600}.status{font-weight:600}
.test{background:#fff4d6;padding:.5rem;border-radius:4px}`}</style>
			</head>
			<body>
				<main>{props.children as never}</main>
			</body>
		</html>
	);
}
