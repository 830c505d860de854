// The embeddable pay button (payment links issue).
export {};
