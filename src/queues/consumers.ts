// Each queue's consumer, registered here and loaded on first use.
import { registerQueueHandler } from "./index";

export { registerQueueHandler };
