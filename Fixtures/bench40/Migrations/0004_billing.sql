-- bench40 / 0004: invoices, payments, discounts and subscriptions
CREATE TYPE payment_status AS ENUM ('authorized', 'captured', 'failed', 'refunded');

CREATE TABLE tax_rates (
    id        serial PRIMARY KEY,
    country   char(2) NOT NULL,
    region    text,
    rate_bps  integer NOT NULL CHECK (rate_bps BETWEEN 0 AND 10000),
    CONSTRAINT tax_rates_country_region_key UNIQUE (country, region)
);

CREATE TABLE coupons (
    id              serial PRIMARY KEY,
    account_id      bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    code            text NOT NULL,
    percent_off     smallint CHECK (percent_off BETWEEN 1 AND 100),
    amount_off_cents integer CHECK (amount_off_cents > 0),
    max_redemptions integer CHECK (max_redemptions > 0),
    expires_at      timestamptz,
    CONSTRAINT coupons_one_discount_kind CHECK ((percent_off IS NULL) <> (amount_off_cents IS NULL))
);
CREATE UNIQUE INDEX coupons_account_code_key ON coupons (account_id, upper(code));

CREATE TABLE order_coupons (
    order_id   bigint NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    coupon_id  integer NOT NULL REFERENCES coupons (id) ON DELETE RESTRICT,
    PRIMARY KEY (order_id, coupon_id)
);

CREATE TABLE invoices (
    id            bigserial PRIMARY KEY,
    account_id    bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    order_id      bigint REFERENCES orders (id) ON DELETE SET NULL,
    number        text NOT NULL UNIQUE,
    issued_on     date NOT NULL DEFAULT current_date,
    due_on        date NOT NULL,
    total_cents   integer NOT NULL CHECK (total_cents >= 0),
    paid_at       timestamptz,
    voided_at     timestamptz,
    CONSTRAINT invoices_due_after_issue CHECK (due_on >= issued_on)
);
CREATE INDEX invoices_account_issued_idx ON invoices (account_id, issued_on DESC);
CREATE INDEX invoices_unpaid_idx ON invoices (due_on) WHERE paid_at IS NULL AND voided_at IS NULL;

CREATE TABLE invoice_lines (
    id                bigserial PRIMARY KEY,
    invoice_id        bigint NOT NULL REFERENCES invoices (id) ON DELETE CASCADE,
    description       text NOT NULL,
    quantity          integer NOT NULL DEFAULT 1 CHECK (quantity > 0),
    unit_amount_cents integer NOT NULL,
    tax_rate_id       integer REFERENCES tax_rates (id) ON DELETE SET NULL
);
CREATE INDEX invoice_lines_invoice_id_idx ON invoice_lines (invoice_id);

CREATE TABLE payments (
    id            bigserial PRIMARY KEY,
    invoice_id    bigint NOT NULL REFERENCES invoices (id) ON DELETE CASCADE,
    status        payment_status NOT NULL DEFAULT 'authorized',
    method        text NOT NULL CHECK (method IN ('card', 'bank_transfer', 'wallet', 'cash')),
    amount_cents  integer NOT NULL CHECK (amount_cents > 0),
    provider_ref  text,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payments_invoice_status_idx ON payments (invoice_id, status);
CREATE UNIQUE INDEX payments_provider_ref_key ON payments (provider_ref) WHERE provider_ref IS NOT NULL;

CREATE TABLE refunds (
    id            bigserial PRIMARY KEY,
    payment_id    bigint NOT NULL REFERENCES payments (id) ON DELETE CASCADE,
    amount_cents  integer NOT NULL CHECK (amount_cents > 0),
    reason        text,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refunds_payment_id_idx ON refunds (payment_id);

CREATE TABLE subscriptions (
    id                    bigserial PRIMARY KEY,
    account_id            bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    plan                  account_plan NOT NULL,
    status                text NOT NULL DEFAULT 'active' CHECK (status IN ('trialing', 'active', 'past_due', 'cancelled')),
    current_period_start  timestamptz NOT NULL,
    current_period_end    timestamptz NOT NULL,
    cancelled_at          timestamptz,
    CONSTRAINT subscriptions_period_order CHECK (current_period_end > current_period_start)
);
CREATE UNIQUE INDEX subscriptions_one_live_per_account ON subscriptions (account_id) WHERE status <> 'cancelled';
