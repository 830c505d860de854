import {
	APPEARANCE_VARIABLES,
	type BillingDetails,
	type Envelope,
	type FrameAppearance,
	type FrameToPage,
	isEnvelope,
	NS,
	type PageToFrame,
	type StripeJsError,
} from "./protocol";

// Elements on the merchant's page: the group made by `stripe.elements({clientSecret})` and the
// Payment Element it creates. The element is an iframe from the emulator's origin holding the
// card inputs (elements-frame.ts), so card data never enters the merchant's page; the two talk
// over postMessage, each checking the other's origin and window.

export class IntegrationError extends Error {
	constructor(message: string) {
		super(message);
		this.name = "IntegrationError";
	}
}

export interface StripeContext {
	/** The emulator's origin: where this script, the card frame and the API live. */
	origin: string;
	publishableKey: string;
}

export interface Appearance {
	theme?: string;
	variables?: Record<string, unknown>;
}

export interface ElementsOptions {
	clientSecret?: string;
	appearance?: Appearance;
	locale?: string;
	loader?: string;
	fonts?: unknown[];
}

type ElementEvent = "ready" | "change" | "focus" | "blur" | "loaderror";
type Handler = (event: Record<string, unknown>) => void;

function appearanceFor(input: Appearance | undefined): FrameAppearance {
	const theme = input?.theme === "night" || input?.theme === "flat" ? input.theme : "stripe";
	const variables: FrameAppearance["variables"] = {};
	for (const name of APPEARANCE_VARIABLES) {
		const value = input?.variables?.[name];
		if (typeof value === "string" && value.length <= 200) variables[name] = value;
	}
	return { theme, variables };
}

let frameCount = 0;

export class PaymentElement {
	readonly #context: StripeContext;
	readonly #id = `${Date.now().toString(36)}${(frameCount++).toString(36)}`;
	readonly #handlers = new Map<ElementEvent, Set<Handler>>();
	readonly #pending = new Map<number, (message: FrameToPage) => void>();
	#appearance: FrameAppearance;
	#wrapper: HTMLDivElement | null = null;
	#iframe: HTMLIFrameElement | null = null;
	#ready: Promise<void> = new Promise(() => {});
	#markReady: () => void = () => {};
	#nextRequest = 1;
	#destroyed = false;
	#onMessage = (event: MessageEvent) => this.#receive(event);

	constructor(context: StripeContext, appearance: Appearance | undefined) {
		this.#context = context;
		this.#appearance = appearanceFor(appearance);
	}

	get mounted(): boolean {
		return this.#iframe !== null;
	}

	mount(target: string | HTMLElement): void {
		if (this.#destroyed) throw new IntegrationError("This Element has already been destroyed.");
		if (this.#iframe) {
			throw new IntegrationError(
				"This Element is already mounted. Use `unmount()` to unmount the Element before re-mounting.",
			);
		}
		const host = typeof target === "string" ? document.querySelector(target) : target;
		if (!(host instanceof HTMLElement)) {
			throw new IntegrationError(
				typeof target === "string"
					? `The selector you specified (${target}) applies to no DOM elements that are currently on the page.\nMake sure the element exists on the page before calling mount().`
					: "Invalid DOM element. Make sure to call mount() with a valid DOM element or selector.",
			);
		}
		this.#ready = new Promise((resolve) => {
			this.#markReady = resolve;
		});
		const hash = new URLSearchParams({
			origin: window.location.origin,
			id: this.#id,
			key: this.#context.publishableKey,
			appearance: JSON.stringify(this.#appearance),
		});
		const wrapper = document.createElement("div");
		wrapper.className = "__PrivateStripeElement";
		wrapper.style.setProperty("margin", "0");
		wrapper.style.setProperty("padding", "0");
		const iframe = document.createElement("iframe");
		iframe.name = `__privateStripeFrame${this.#id}`;
		iframe.title = "Secure payment input frame";
		iframe.setAttribute("frameborder", "0");
		iframe.setAttribute("scrolling", "no");
		iframe.allow = "payment *";
		for (const [name, value] of Object.entries({
			border: "none",
			margin: "0",
			padding: "0",
			width: "100%",
			"min-width": "100%",
			height: "180px",
			display: "block",
			overflow: "hidden",
			"color-scheme": "normal",
		})) {
			iframe.style.setProperty(name, value);
		}
		iframe.src = `${this.#context.origin}/js/v3/elements-frame.html#${hash}`;
		wrapper.append(iframe);
		window.addEventListener("message", this.#onMessage);
		host.append(wrapper);
		this.#wrapper = wrapper;
		this.#iframe = iframe;
	}

	unmount(): void {
		window.removeEventListener("message", this.#onMessage);
		this.#wrapper?.remove();
		this.#wrapper = null;
		this.#iframe = null;
		for (const resolve of this.#pending.values()) {
			resolve({
				type: "payment-method-error",
				request: 0,
				error: { type: "validation_error", message: "The Payment Element was unmounted." },
			});
		}
		this.#pending.clear();
	}

	destroy(): void {
		this.unmount();
		this.#handlers.clear();
		this.#destroyed = true;
	}

	on(event: ElementEvent, handler: Handler): this {
		let set = this.#handlers.get(event);
		if (!set) {
			set = new Set();
			this.#handlers.set(event, set);
		}
		set.add(handler);
		return this;
	}

	once(event: ElementEvent, handler: Handler): this {
		const wrapped: Handler = (payload) => {
			this.off(event, wrapped);
			handler(payload);
		};
		return this.on(event, wrapped);
	}

	off(event: ElementEvent, handler?: Handler): this {
		if (handler) this.#handlers.get(event)?.delete(handler);
		else this.#handlers.delete(event);
		return this;
	}

	focus(): void {
		this.#send({ type: "focus" });
	}

	clear(): void {
		this.#send({ type: "clear" });
	}

	/** Checks every field in the frame (showing its errors there); the first error, if any. */
	async validate(): Promise<StripeJsError | null> {
		const reply = await this.#request((request) => ({ type: "validate", request }));
		return reply.type === "validated" ? reply.error : "error" in reply ? reply.error : null;
	}

	/** The frame creates the PaymentMethod from its inputs; the page only ever sees its id. */
	async createPaymentMethod(
		billingDetails: BillingDetails | null,
	): Promise<{ paymentMethod: { id: string } } | { error: StripeJsError }> {
		const reply = await this.#request((request) => ({
			type: "create-payment-method",
			request,
			billingDetails,
		}));
		if (reply.type === "payment-method") return { paymentMethod: reply.paymentMethod };
		if (reply.type === "payment-method-error") return { error: reply.error };
		return { error: { type: "api_error", message: "The card form did not answer." } };
	}

	async #request(build: (request: number) => PageToFrame): Promise<FrameToPage> {
		if (!this.#iframe) {
			throw new IntegrationError(
				"The Payment Element is not mounted. Call `element.mount()` before confirming.",
			);
		}
		await this.#ready;
		const request = this.#nextRequest++;
		return new Promise((resolve) => {
			this.#pending.set(request, resolve);
			this.#send(build(request));
		});
	}

	#send(message: PageToFrame): void {
		const target = this.#iframe?.contentWindow;
		if (!target) return;
		const envelope: Envelope<PageToFrame> = { ...message, ns: NS, frame: this.#id };
		target.postMessage(envelope, this.#context.origin);
	}

	#emit(event: ElementEvent, payload: Record<string, unknown>): void {
		for (const handler of [...(this.#handlers.get(event) ?? [])]) {
			try {
				handler({ elementType: "payment", ...payload });
			} catch (error) {
				// A merchant's handler throwing must not break the element.
				setTimeout(() => {
					throw error;
				});
			}
		}
	}

	#receive(event: MessageEvent): void {
		if (event.origin !== this.#context.origin) return;
		if (!this.#iframe || event.source !== this.#iframe.contentWindow) return;
		const data: unknown = event.data;
		if (!isEnvelope(data) || data.frame !== this.#id) return;
		const message = data as Envelope<FrameToPage>;
		switch (message.type) {
			case "ready":
				this.#markReady();
				this.#emit("ready", {});
				break;
			case "change":
				this.#emit("change", {
					complete: message.complete,
					empty: message.empty,
					collapsed: false,
					value: { type: "card" },
				});
				break;
			case "focus":
			case "blur":
				this.#emit(message.type, {});
				break;
			case "resize":
				if (Number.isFinite(message.height) && message.height > 0 && message.height < 2000) {
					this.#iframe.style.setProperty("height", `${Math.ceil(message.height)}px`);
				}
				break;
			case "validated":
			case "payment-method":
			case "payment-method-error": {
				const resolve = this.#pending.get(message.request);
				this.#pending.delete(message.request);
				resolve?.(message);
				break;
			}
		}
	}
}

/** `stripe.elements({clientSecret, appearance})`: one group per PaymentIntent. */
export class Elements {
	readonly clientSecret: string;
	readonly #context: StripeContext;
	#appearance: Appearance | undefined;
	#payment: PaymentElement | null = null;

	constructor(context: StripeContext, options: ElementsOptions) {
		if (typeof options.clientSecret !== "string") {
			throw new IntegrationError(
				'In order to create a payment element, you must pass a clientSecret or mode when creating the Elements group.\n\ne.g. stripe.elements({clientSecret: "{{CLIENT_SECRET}}"})',
			);
		}
		if (!/^pi_[A-Za-z0-9]+_secret_[A-Za-z0-9]+$/.test(options.clientSecret)) {
			throw new IntegrationError(
				`Invalid value for elements(): clientSecret should be a client secret of the form \${id}_secret_\${secret}. You specified: ${options.clientSecret}.`,
			);
		}
		this.#context = context;
		this.clientSecret = options.clientSecret;
		this.#appearance = options.appearance;
	}

	get context(): StripeContext {
		return this.#context;
	}

	create(type: string, _options?: Record<string, unknown>): PaymentElement {
		if (type !== "payment") {
			throw new IntegrationError(
				`The stand-in Stripe.js only offers the "payment" Element; "${type}" is not available.`,
			);
		}
		if (this.#payment) {
			throw new IntegrationError(
				"Can only create one Element of type payment. Use getElement() to reach the existing one.",
			);
		}
		this.#payment = new PaymentElement(this.#context, this.#appearance);
		return this.#payment;
	}

	getElement(type: string): PaymentElement | null {
		return type === "payment" ? this.#payment : null;
	}

	/** Applies to elements created afterwards; a mounted frame keeps its look. */
	update(options: { appearance?: Appearance }): void {
		if (options.appearance) this.#appearance = options.appearance;
	}

	async fetchUpdates(): Promise<Record<string, never>> {
		return {};
	}

	/** Validates the Payment Element's fields, as Stripe's `elements.submit()` does. */
	async submit(): Promise<{ error?: StripeJsError }> {
		const element = this.#payment;
		if (!element?.mounted) {
			throw new IntegrationError("elements.submit(): the Payment Element is not mounted.");
		}
		const error = await element.validate();
		return error ? { error } : {};
	}
}
