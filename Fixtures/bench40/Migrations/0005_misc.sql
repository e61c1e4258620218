-- bench40 / 0005: auditing, notifications, webhooks, a reporting view and an updated_at trigger
CREATE TABLE audit_log (
    id           bigserial PRIMARY KEY,
    account_id   bigint REFERENCES accounts (id) ON DELETE SET NULL,
    actor_id     bigint REFERENCES users (id) ON DELETE SET NULL,
    action       text NOT NULL CHECK (action IN ('insert', 'update', 'delete', 'login', 'export')),
    entity_type  text NOT NULL,
    entity_id    bigint,
    details      jsonb NOT NULL DEFAULT '{}'::jsonb,
    message      text,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_account_created_idx ON audit_log (account_id, created_at DESC);
CREATE INDEX audit_log_entity_idx ON audit_log (entity_type, entity_id);

CREATE TABLE notifications (
    id          bigserial PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    channel     text NOT NULL CHECK (channel IN ('email', 'sms', 'push', 'in_app')),
    subject     text NOT NULL,
    body        text,
    read_at     timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notifications_unread_idx ON notifications (user_id, created_at DESC) WHERE read_at IS NULL;

CREATE TABLE webhooks (
    id          serial PRIMARY KEY,
    account_id  bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    url         text NOT NULL CHECK (url LIKE 'https://%'),
    events      text[] NOT NULL,
    secret      text NOT NULL,
    is_enabled  boolean NOT NULL DEFAULT true,
    CONSTRAINT webhooks_account_url_key UNIQUE (account_id, url)
);

CREATE TABLE webhook_deliveries (
    id            bigserial PRIMARY KEY,
    webhook_id    integer NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event         text NOT NULL,
    payload       jsonb NOT NULL,
    status_code   smallint CHECK (status_code BETWEEN 100 AND 599),
    attempt       smallint NOT NULL DEFAULT 1 CHECK (attempt BETWEEN 1 AND 10),
    delivered_at  timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_deliveries_webhook_created_idx ON webhook_deliveries (webhook_id, created_at DESC);
CREATE INDEX webhook_deliveries_failed_idx ON webhook_deliveries (webhook_id) WHERE status_code IS NULL OR status_code >= 400;

CREATE VIEW order_totals AS
SELECT o.id AS order_id,
       o.account_id,
       o.number,
       o.status,
       count(oi.id) AS item_count,
       coalesce(sum(oi.quantity * oi.unit_price_cents), 0) AS items_cents,
       o.subtotal_cents - o.discount_cents + o.tax_cents + o.shipping_cents AS total_cents
FROM orders o
LEFT JOIN order_items oi ON oi.order_id = o.id
GROUP BY o.id;

CREATE FUNCTION set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW IS DISTINCT FROM OLD THEN
        NEW.updated_at := now();
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER accounts_set_updated_at BEFORE UPDATE ON accounts
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER users_set_updated_at BEFORE UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER products_set_updated_at BEFORE UPDATE ON products
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER orders_set_updated_at BEFORE UPDATE ON orders
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
