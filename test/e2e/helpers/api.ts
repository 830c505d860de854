import { randomUUID } from "node:crypto";
import { gatewayJson } from "../../../scripts/lib/gateway-api";
import type { PaymentObjectJson } from "../../../src/domain/payment";

// The merchant's side: payments created and read through the public API with the test secret key.

export type ApiPayment = PaymentObjectJson;

export interface PaymentInput {
	amount: number;
	currency: string;
	payment_method_types?: ("solana" | "card")[];
	description?: string;
	success_url?: string;
	expires_in?: number;
	solana?: { token: string };
	customer?: string;
}

export class MerchantApi {
	constructor(
		readonly baseUrl: string,
		readonly secretKey: string,
	) {}

	async createPayment(input: PaymentInput): Promise<ApiPayment> {
		return (await gatewayJson(this.baseUrl, "/v1/payments", {
			method: "POST",
			token: this.secretKey,
			body: input,
			headers: { "idempotency-key": randomUUID() },
		})) as ApiPayment;
	}

	/** A customer holding `wallets` (a payer who signs in with one of them becomes this customer). */
	async createCustomer(input: { name?: string; wallets?: string[] }): Promise<{ id: string }> {
		return (await gatewayJson(this.baseUrl, "/v1/customers", {
			method: "POST",
			token: this.secretKey,
			body: input,
			headers: { "idempotency-key": randomUUID() },
		})) as { id: string };
	}

	async getPayment(id: string): Promise<ApiPayment> {
		return (await gatewayJson(this.baseUrl, `/v1/payments/${id}`, {
			token: this.secretKey,
		})) as ApiPayment;
	}
}
