import { dropEarlierMessages, forgetProjectModules, freshStorage } from "./helpers/fresh-runtime";

// The suite's files share one workerd, one after another; each still gets fresh modules, its
// own empty storage with the schema applied, and none of an earlier file's queue messages
// (helpers/fresh-runtime.ts). Modules are forgotten before anything imports the gateway.
const fileStart = Date.now();
forgetProjectModules();
await freshStorage();
await dropEarlierMessages(fileStart);

// The test bundler resolves @solana/kit to its browser build (package.json "browser" field),
// which refuses crypto unless the page is a secure context; workerd has no such notion. The
// production bundle uses kit's workerd build, which has no such check.
Object.defineProperty(globalThis, "isSecureContext", { value: true, configurable: true });
