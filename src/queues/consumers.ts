// Each queue's consumer, registered here and loaded on first use.
import { registerQueueHandler } from "./index";

registerQueueHandler("webhooks", async () => (await import("./webhooks")).consumeWebhooks);

registerQueueHandler("conversions", async () => (await import("./conversions")).handleConversions);

registerQueueHandler("refunds", async () => (await import("./refunds")).handleRefunds);

registerQueueHandler("reports", async () => (await import("./reports")).handleReports);

registerQueueHandler("payouts", async () => (await import("./payouts")).handlePayouts);

export { registerQueueHandler };
