import { type TestWalletConfig, WALLET_BRIDGE_GLOBAL, WALLET_CONFIG_GLOBAL } from "./protocol";
import { type Bridge, registerTestWallet, WalletError } from "./wallet";

// The browser tests' entry: the test's init script sets the config global first, and the bridge
// is the Node side's page.exposeFunction (helpers/wallet-host.ts).

const scope = window as unknown as Record<string, unknown>;
const config = scope[WALLET_CONFIG_GLOBAL] as TestWalletConfig | undefined;
// Looked up per call: the exposed function's binding may land after this script.
const bridge: Bridge = (request) => {
	const exposed = scope[WALLET_BRIDGE_GLOBAL];
	if (typeof exposed !== "function") throw new WalletError("Test wallet bridge missing.", -32603);
	return (exposed as Bridge)(request);
};
if (config) registerTestWallet(config, bridge);
else console.error("test wallet: no config; the wallet is not registered");
