import { DurableObject } from "cloudflare:workers";
import type { Env } from "../src/env";
import {
	ChainSender,
	type ChainSendJob,
	type SenderState,
	type SenderStatus,
} from "./chain-sender";

/**
 * A Durable Object that owns one on-chain transfer (a crypto refund, a payout): its RPC surface
 * over a ChainSender for the `job` its subclass names. RefundObject and PayoutObject differ only
 * in the job; each keeps its own class name, which wrangler binds.
 */
export abstract class ChainSenderObject<Spec> extends DurableObject<Env> {
	private readonly sender: ChainSender<Spec>;

	constructor(ctx: DurableObjectState, env: Env, job: ChainSendJob<Spec>) {
		super(ctx, env);
		this.sender = new ChainSender(ctx, env, job);
	}

	/** Takes the transfer on (once; later calls with the same id just look again). */
	async start(spec: Spec): Promise<SenderStatus> {
		return this.sender.start(spec);
	}

	async status(): Promise<SenderStatus> {
		return this.sender.status();
	}

	/**
	 * Gives up if nothing can land any more (see ChainSender.abandon); answers the state either way.
	 */
	async abandon(reason: string): Promise<SenderState | null> {
		return this.sender.abandon(reason);
	}

	override async alarm(): Promise<void> {
		await this.sender.alarm();
	}
}
