import { raw } from "hono/html";

/**
 * The document every server-rendered page shares: standards mode (without a doctype, browsers lay
 * the page out in quirks mode), UTF-8, a mobile viewport and no indexing, since checkout, payment
 * link and dashboard pages are all private. `head` holds the page's own title, styles and scripts.
 */
export function HtmlPage(props: {
	lang: string;
	mobile?: boolean;
	head: unknown;
	children: unknown;
}) {
	return (
		<>
			{raw("<!DOCTYPE html>")}
			<html lang={props.lang} data-mobile={props.mobile ? "" : undefined}>
				<head>
					<meta charset="utf-8" />
					<meta name="viewport" content="width=device-width, initial-scale=1" />
					<meta name="robots" content="noindex" />
					{props.head as never}
				</head>
				<body>{props.children as never}</body>
			</html>
		</>
	);
}
