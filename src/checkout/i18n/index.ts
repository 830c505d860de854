import { fill } from "../../domain/checkout-format";
import { de } from "./de";
import { en, type MessageKey, type Messages } from "./en";
import { es } from "./es";
import { fr } from "./fr";
import { ja } from "./ja";
import { pt } from "./pt";

export type { MessageKey, Messages };

/** The checkout's languages, by primary language subtag; English is the fallback. */
export const CHECKOUT_LANGUAGES: Readonly<Record<string, Messages>> = { en, es, fr, de, pt, ja };

export interface CheckoutLocale {
	/** The primary language whose words the page uses (`lang` of the page). */
	language: string;
	/** The tag `Intl` formats amounts and dates for: the payer's own region when they sent one. */
	locale: string;
	messages: Messages;
}

const FALLBACK: CheckoutLocale = { language: "en", locale: "en", messages: en };

/**
 * The payer's language from `Accept-Language` (RFC 9110 §12.5.4): the highest-weighted range
 * whose primary subtag the checkout speaks, ties kept in the header's order; `*` and unknown
 * languages fall through to English. The region (es-MX, pt-BR) is kept for number and date
 * formats when `Intl` knows the tag.
 */
export function negotiateLocale(header: string | undefined | null): CheckoutLocale {
	if (!header) return FALLBACK;
	const ranges = header
		.slice(0, 1024)
		.split(",")
		.slice(0, 32)
		.map((part, index) => {
			const [tag = "", ...params] = part.trim().split(";");
			const q = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
			const weight = q === undefined ? 1 : Number(q.slice(2));
			return { tag: tag.trim(), weight: Number.isFinite(weight) ? weight : 0, index };
		})
		.filter((r) => r.weight > 0 && r.tag !== "" && r.tag !== "*")
		.sort((a, b) => b.weight - a.weight || a.index - b.index);
	for (const range of ranges) {
		const language = range.tag.split("-")[0]?.toLowerCase() ?? "";
		const messages = CHECKOUT_LANGUAGES[language];
		if (!messages || !Object.hasOwn(CHECKOUT_LANGUAGES, language)) continue;
		return { language, locale: canonicalLocale(range.tag) ?? language, messages };
	}
	return FALLBACK;
}

/**
 * Language and region only: a tag's extensions (another numbering system, say) would write the
 * whole part of an amount in other digits than the fraction the checkout appends.
 */
function canonicalLocale(tag: string): string | null {
	try {
		const locale = new Intl.Locale(tag);
		return locale.region ? `${locale.language}-${locale.region}` : locale.language;
	} catch {
		return null;
	}
}

export { fill };
