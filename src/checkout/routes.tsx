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
export function registerCheckout(app: App): void {
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
