import { GENESIS_HASH } from "../chain.js";
import { fromBase64 } from "../encoding.js";
import { invalidParams } from "../errors.js";
import { feeFor } from "../executor.js";
import { commitmentOf, configParam, positional, stringParam, u64Param } from "../params.js";
import { JsonRpcError, type RpcMethods } from "../rpc-server.js";
import { parseMessage, WireFormatError } from "../wire.js";
import { type MethodContext, readSlot, withContext } from "./context.js";

// Cluster-level reads: slots, block heights, blockhashes, fees, rent, epochs.

const SLOTS_PER_EPOCH = 432_000;

export function registerClusterMethods(methods: RpcMethods, ctx: MethodContext): void {
	methods.set("getGenesisHash", () => GENESIS_HASH);

	methods.set("getSlot", (params) => {
		const config = configParam(positional(params, 0)[0]);
		return readSlot(ctx.chain(), commitmentOf(config), config);
	});

	methods.set("getBlockHeight", (params) => {
		const config = configParam(positional(params, 0)[0]);
		return readSlot(ctx.chain(), commitmentOf(config), config);
	});

	methods.set("getEpochInfo", (params) => {
		const config = configParam(positional(params, 0)[0]);
		const chain = ctx.chain();
		const slot = readSlot(chain, commitmentOf(config), config);
		return {
			absoluteSlot: slot,
			blockHeight: slot,
			epoch: Math.floor(slot / SLOTS_PER_EPOCH),
			slotIndex: slot % SLOTS_PER_EPOCH,
			slotsInEpoch: SLOTS_PER_EPOCH,
			transactionCount: null,
		};
	});

	methods.set("getLatestBlockhash", (params) => {
		const config = configParam(positional(params, 0)[0]);
		const chain = ctx.chain();
		const slot = readSlot(chain, commitmentOf(config), config);
		return withContext(slot, {
			blockhash: chain.clock.blockhashAt(slot),
			lastValidBlockHeight: chain.clock.lastValidBlockHeight(slot),
		});
	});

	methods.set("isBlockhashValid", (params) => {
		const args = positional(params, 1);
		const blockhash = stringParam(args[0]);
		const config = configParam(args[1]);
		const chain = ctx.chain();
		const slot = readSlot(chain, commitmentOf(config), config);
		return withContext(slot, chain.clock.isBlockhashValid(blockhash, slot));
	});

	methods.set("getFeeForMessage", (params) => {
		const args = positional(params, 1);
		const encoded = stringParam(args[0]);
		const config = configParam(args[1]);
		const bytes = fromBase64(encoded);
		if (!bytes) throw invalidParams(`invalid base64 encoding: ${JSON.stringify(encoded)}`);
		let message: ReturnType<typeof parseMessage>;
		try {
			message = parseMessage(bytes);
		} catch (error) {
			if (error instanceof WireFormatError) {
				throw invalidParams(
					`failed to deserialize solana_message::VersionedMessage: ${error.message}`,
				);
			}
			throw error;
		}
		const chain = ctx.chain();
		const slot = readSlot(chain, commitmentOf(config), config);
		// Priority fees are not charged by the sandbox's runtime, so they are not quoted either.
		const valid = chain.clock.isBlockhashValid(message.recentBlockhash, slot);
		return withContext(slot, valid ? feeFor(message.header.numRequiredSignatures) : null);
	});

	methods.set("getMinimumBalanceForRentExemption", (params) => {
		const args = positional(params, 1);
		const length = u64Param(args[0], "usize");
		configParam(args[1]);
		return ctx.chain().rentExempt(length);
	});

	methods.set("getRecentPrioritizationFees", (params) => {
		positional(params, 0);
		const chain = ctx.chain();
		const first = Math.max(0, chain.slot - 149);
		const fees = [];
		for (let slot = first; slot <= chain.slot; slot++) fees.push({ slot, prioritizationFee: 0 });
		return fees;
	});

	methods.set("getBlockTime", (params) => {
		const slot = u64Param(positional(params, 1)[0]);
		const chain = ctx.chain();
		const time = slot <= BigInt(chain.slot) ? chain.clock.blockTimeAt(Number(slot)) : null;
		if (time === null) throw new JsonRpcError(-32004, `Block not available for slot ${slot}`);
		return time;
	});
}
