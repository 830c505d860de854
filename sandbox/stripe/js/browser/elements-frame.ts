import { stripeApi } from "./api";
import {
	type CardField,
	type CardFieldValues,
	cardBrand,
	type FieldError,
	fieldComplete,
	formatCardNumber,
	formatCvc,
	formatExpiry,
	formatPostalCode,
	readCard,
	validateCvc,
	validateExpiry,
	validateNumber,
	validatePostalCode,
} from "./card-fields";
import {
	APPEARANCE_VARIABLES,
	type BillingDetails,
	type Envelope,
	type FrameAppearance,
	type FrameToPage,
	isEnvelope,
	NS,
	type PageToFrame,
	parseOrigin,
	type StripeJsError,
} from "./protocol";

// The Payment Element's card form, inside its iframe on the emulator's origin: card number,
// expiry, CVC and ZIP. Only this frame sees the card; it creates the PaymentMethod itself
// (same-origin POST /v1/payment_methods with the publishable key) and hands the page its id.
// It answers only the page named in its URL (origin and window), and only that page hears it.

const params = new URLSearchParams(window.location.hash.slice(1));
const parentOrigin = parseOrigin(params.get("origin"));
const frameId = params.get("id") ?? "";
const publishableKey = params.get("key") ?? "";

const FIELDS: Record<CardField, { input: string; next: CardField | null }> = {
	number: { input: "card-number", next: "expiry" },
	expiry: { input: "card-expiry", next: "cvc" },
	cvc: { input: "card-cvc", next: "postalCode" },
	postalCode: { input: "postal-code", next: null },
};
const ORDER = Object.keys(FIELDS) as CardField[];
const VALIDATORS: Record<CardField, (values: CardFieldValues) => FieldError | null> = {
	number: (v) => validateNumber(v.number),
	expiry: (v) => validateExpiry(v.expiry, new Date()),
	cvc: (v) => validateCvc(v.cvc, v.number),
	postalCode: (v) => validatePostalCode(v.postalCode),
};
const BRAND_NAMES: Record<string, string> = {
	visa: "Visa",
	mastercard: "Mastercard",
	amex: "American Express",
	discover: "Discover",
	diners: "Diners Club",
	jcb: "JCB",
	unionpay: "UnionPay",
};

function input(field: CardField): HTMLInputElement {
	const element = document.getElementById(FIELDS[field].input);
	if (!(element instanceof HTMLInputElement)) throw new Error(`missing input for ${field}`);
	return element;
}

function values(): CardFieldValues {
	return {
		number: input("number").value,
		expiry: input("expiry").value,
		cvc: input("cvc").value,
		postalCode: input("postalCode").value,
	};
}

function post(message: FrameToPage): void {
	if (!parentOrigin) return;
	const envelope: Envelope<FrameToPage> = { ...message, ns: NS, frame: frameId };
	window.parent.postMessage(envelope, parentOrigin);
}

function showError(field: CardField, message: string | null): void {
	const element = input(field);
	const error = document.getElementById(`${element.id}-error`);
	element.setAttribute("aria-invalid", String(message !== null));
	if (error) {
		error.textContent = message ?? "";
		error.hidden = message === null;
	}
}

// ── Typing ──────────────────────────────────────────────────────────────────────────────────

/** Reformats a field, keeping the caret after the same number of digits it followed. */
function reformat(element: HTMLInputElement, format: (value: string) => string): void {
	const caret = element.selectionStart ?? element.value.length;
	const digitsBefore = element.value.slice(0, caret).replace(/\D/g, "").length;
	const next = format(element.value);
	if (next === element.value) return;
	element.value = next;
	let position = 0;
	for (let seen = 0; position < next.length && seen < digitsBefore; position++) {
		if (/\d/.test(next[position] ?? "")) seen++;
	}
	if (document.activeElement === element) element.setSelectionRange(position, position);
}

let last = { complete: false, empty: true };

function reportChange(): void {
	const current = values();
	const empty = ORDER.every((field) => current[field].trim() === "");
	const complete = readCard(current, new Date()).errors.length === 0;
	if (complete === last.complete && empty === last.empty) return;
	last = { complete, empty };
	post({ type: "change", complete, empty });
}

function onInput(field: CardField, event: Event): void {
	const element = input(field);
	const deleting = (event as InputEvent).inputType?.startsWith("delete") ?? false;
	if (field === "number") {
		reformat(element, formatCardNumber);
		const brand = cardBrand(element.value);
		const badge = document.getElementById("card-brand");
		if (badge) {
			badge.textContent = BRAND_NAMES[brand] ?? "";
			badge.dataset.brand = brand;
		}
		reformat(input("cvc"), (v) => formatCvc(v, element.value));
	} else if (field === "expiry") {
		reformat(element, (v) => formatExpiry(v, deleting));
	} else if (field === "cvc") {
		reformat(element, (v) => formatCvc(v, input("number").value));
	} else {
		reformat(element, formatPostalCode);
	}
	const current = values();
	// An error shown earlier goes away as soon as the field is right.
	if (element.getAttribute("aria-invalid") === "true" && VALIDATORS[field](current) === null) {
		showError(field, null);
	}
	const next = FIELDS[field].next;
	if (!deleting && next && fieldComplete(field, current, new Date())) input(next).focus();
	reportChange();
}

function onBlur(field: CardField): void {
	const current = values();
	if (current[field].trim() === "") return;
	showError(field, VALIDATORS[field](current)?.message ?? null);
}

// ── Requests from the page ──────────────────────────────────────────────────────────────────

/** Shows every field's error and focuses the first; the first error (Stripe reports one). */
function validateAll(): { error: StripeJsError | null; card: ReturnType<typeof readCard>["card"] } {
	const { card, errors } = readCard(values(), new Date());
	for (const field of ORDER) {
		showError(field, errors.find((e) => e.field === field)?.message ?? null);
	}
	const first = errors[0];
	if (first) {
		input(first.field).focus();
		const { field: _field, ...error } = first;
		return { error, card: null };
	}
	return { error: null, card };
}

function setBusy(busy: boolean): void {
	for (const field of ORDER) input(field).readOnly = busy;
	document.documentElement.toggleAttribute("data-busy", busy);
}

/** Which field a server-side card error is about (`card[number]` → number). */
function fieldOfParam(param: string | undefined): CardField | null {
	if (!param) return null;
	if (param.includes("number")) return "number";
	if (param.includes("exp_")) return "expiry";
	if (param.includes("cvc")) return "cvc";
	if (param.includes("postal_code")) return "postalCode";
	return null;
}

async function createPaymentMethod(
	request: number,
	billingDetails: BillingDetails | null,
): Promise<void> {
	const { error, card } = validateAll();
	if (error || !card) {
		post({
			type: "payment-method-error",
			request,
			error: error ?? { type: "validation_error", message: "Your card details are incomplete." },
		});
		return;
	}
	setBusy(true);
	const result = await stripeApi<{ id: string }>(
		window.location.origin,
		publishableKey,
		"POST",
		"/v1/payment_methods",
		{
			type: "card",
			card: {
				number: card.number,
				exp_month: card.expMonth,
				exp_year: card.expYear,
				cvc: card.cvc,
			},
			billing_details: {
				...(billingDetails ?? {}),
				address: { ...(billingDetails?.address ?? {}), postal_code: card.postalCode },
			},
		},
	).finally(() => setBusy(false));
	if (!result.ok) {
		const field = fieldOfParam(result.error.param);
		if (field) showError(field, result.error.message);
		post({ type: "payment-method-error", request, error: result.error });
		return;
	}
	post({ type: "payment-method", request, paymentMethod: result.body });
}

function clear(): void {
	for (const field of ORDER) {
		input(field).value = "";
		showError(field, null);
	}
	reportChange();
}

function onMessage(event: MessageEvent): void {
	if (event.origin !== parentOrigin || event.source !== window.parent) return;
	const data: unknown = event.data;
	if (!isEnvelope(data) || data.frame !== frameId) return;
	const message = data as Envelope<PageToFrame>;
	switch (message.type) {
		case "validate":
			post({ type: "validated", request: message.request, error: validateAll().error });
			break;
		case "create-payment-method":
			void createPaymentMethod(message.request, message.billingDetails);
			break;
		case "focus":
			input("number").focus();
			break;
		case "clear":
			clear();
			break;
	}
}

// ── Start ───────────────────────────────────────────────────────────────────────────────────

function applyAppearance(): void {
	let appearance: Partial<FrameAppearance> = {};
	try {
		appearance = JSON.parse(params.get("appearance") ?? "{}") as Partial<FrameAppearance>;
	} catch {
		// Defaults, then.
	}
	const root = document.documentElement;
	root.dataset.theme = appearance.theme ?? "stripe";
	for (const name of APPEARANCE_VARIABLES) {
		const value = appearance.variables?.[name];
		const css = `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
		if (typeof value === "string") root.style.setProperty(css, value);
	}
}

function start(): void {
	const form = document.getElementById("payment-form");
	if (!parentOrigin || window.parent === window || !form) {
		document.body.textContent = "This card form only works inside Stripe.js on a merchant's page.";
		return;
	}
	applyAppearance();
	for (const field of ORDER) {
		const element = input(field);
		element.addEventListener("input", (event) => onInput(field, event));
		element.addEventListener("blur", () => onBlur(field));
	}
	// Enter in a field must not submit anything: the merchant's page confirms the payment.
	form.addEventListener("submit", (event) => event.preventDefault());
	form.addEventListener("focusin", (event) => {
		if (!form.contains(event.relatedTarget as Node | null)) post({ type: "focus" });
	});
	form.addEventListener("focusout", (event) => {
		if (!form.contains(event.relatedTarget as Node | null)) post({ type: "blur" });
	});
	const resize = () => post({ type: "resize", height: form.getBoundingClientRect().height });
	new ResizeObserver(resize).observe(form);
	window.addEventListener("message", onMessage);
	resize();
	post({ type: "ready" });
}

start();
