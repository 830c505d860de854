// Each queue's consumer, registered here and loaded on first use.
import { registerQueueHandler } from "./index";

registerQueueHandler("conversions", async () => (await import("./conversions")).handleConversions);

export { registerQueueHandler };
