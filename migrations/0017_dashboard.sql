-- Dashboard payment filters and search: each answered by one index range, never a scan of the
-- merchant's payments. The expressions must match src/dashboard/payments-query.ts exactly.
CREATE INDEX `payments_dashboard_method_idx` ON `payments` (`merchant_id`,`livemode`,(CASE WHEN json_extract(`data`, '$.solana.signature') IS NOT NULL THEN 'solana' WHEN json_extract(`data`, '$.card.charge') IS NOT NULL THEN 'card' END),`id`);--> statement-breakpoint
CREATE INDEX `payments_dashboard_amount_idx` ON `payments` (`merchant_id`,`livemode`,`amount`,`id`);--> statement-breakpoint
CREATE INDEX `payments_dashboard_reference_idx` ON `payments` (`merchant_id`,`livemode`,(json_extract(`data`, '$.metadata.reference')),`id`);--> statement-breakpoint
CREATE INDEX `payments_dashboard_order_idx` ON `payments` (`merchant_id`,`livemode`,(json_extract(`data`, '$.metadata.order_id')),`id`);
--> statement-breakpoint
CREATE INDEX `webhook_attempts_event_idx` ON `webhook_attempts` (`event_id`,`id`);
