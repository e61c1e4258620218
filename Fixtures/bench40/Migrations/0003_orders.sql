-- bench40 / 0003: carts, orders and fulfilment
CREATE TYPE order_status AS ENUM ('pending', 'paid', 'shipped', 'delivered', 'cancelled', 'refunded');

CREATE TABLE addresses (
    id           bigserial PRIMARY KEY,
    account_id   bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    user_id      bigint REFERENCES users (id) ON DELETE SET NULL,
    kind         text NOT NULL DEFAULT 'shipping' CHECK (kind IN ('shipping', 'billing')),
    line1        text NOT NULL,
    line2        text,
    city         text NOT NULL,
    region       text,
    postal_code  text NOT NULL,
    country      char(2) NOT NULL,
    is_default   boolean NOT NULL DEFAULT false
);
CREATE INDEX addresses_user_id_idx ON addresses (user_id);
CREATE UNIQUE INDEX addresses_one_default_idx ON addresses (user_id, kind) WHERE is_default;

CREATE TABLE carts (
    id          bigserial PRIMARY KEY,
    account_id  bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    user_id     bigint REFERENCES users (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX carts_user_id_idx ON carts (user_id);

CREATE TABLE cart_items (
    cart_id     bigint NOT NULL REFERENCES carts (id) ON DELETE CASCADE,
    variant_id  bigint NOT NULL REFERENCES product_variants (id) ON DELETE CASCADE,
    quantity    integer NOT NULL CHECK (quantity > 0),
    added_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (cart_id, variant_id)
);

CREATE TABLE orders (
    id                   bigserial PRIMARY KEY,
    account_id           bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    user_id              bigint REFERENCES users (id) ON DELETE SET NULL,
    number               text NOT NULL,
    status               order_status NOT NULL DEFAULT 'pending',
    shipping_address_id  bigint REFERENCES addresses (id) ON DELETE SET NULL,
    billing_address_id   bigint REFERENCES addresses (id) ON DELETE SET NULL,
    currency             char(3) NOT NULL DEFAULT 'USD',
    subtotal_cents       integer NOT NULL DEFAULT 0 CHECK (subtotal_cents >= 0),
    discount_cents       integer NOT NULL DEFAULT 0 CHECK (discount_cents >= 0),
    tax_cents            integer NOT NULL DEFAULT 0 CHECK (tax_cents >= 0),
    shipping_cents       integer NOT NULL DEFAULT 0 CHECK (shipping_cents >= 0),
    placed_at            timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT orders_account_number_key UNIQUE (account_id, number),
    CONSTRAINT orders_discount_le_subtotal CHECK (discount_cents <= subtotal_cents)
);
CREATE INDEX orders_account_status_placed_idx ON orders (account_id, status, placed_at DESC);
CREATE INDEX orders_user_id_idx ON orders (user_id);
CREATE INDEX orders_open_idx ON orders (placed_at) WHERE status IN ('pending', 'paid');

CREATE TABLE order_items (
    id                bigserial PRIMARY KEY,
    order_id          bigint NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    variant_id        bigint REFERENCES product_variants (id) ON DELETE SET NULL,
    description       text NOT NULL,
    quantity          integer NOT NULL CHECK (quantity > 0),
    unit_price_cents  integer NOT NULL CHECK (unit_price_cents >= 0),
    CONSTRAINT order_items_order_variant_key UNIQUE (order_id, variant_id)
);
CREATE INDEX order_items_variant_id_idx ON order_items (variant_id);

CREATE TABLE order_status_history (
    id          bigserial PRIMARY KEY,
    order_id    bigint NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    from_status order_status,
    to_status   order_status NOT NULL,
    changed_by  bigint REFERENCES users (id) ON DELETE SET NULL,
    changed_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX order_status_history_order_idx ON order_status_history (order_id, changed_at);

CREATE TABLE shipments (
    id               bigserial PRIMARY KEY,
    order_id         bigint NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    warehouse_id     integer REFERENCES warehouses (id) ON DELETE SET NULL,
    carrier          text NOT NULL,
    tracking_number  text,
    shipped_at       timestamptz,
    delivered_at     timestamptz,
    CONSTRAINT shipments_delivery_after_ship CHECK (delivered_at IS NULL OR (shipped_at IS NOT NULL AND delivered_at >= shipped_at))
);
CREATE INDEX shipments_order_id_idx ON shipments (order_id);
CREATE UNIQUE INDEX shipments_carrier_tracking_key ON shipments (carrier, tracking_number) WHERE tracking_number IS NOT NULL;

CREATE TABLE shipment_items (
    shipment_id    bigint NOT NULL REFERENCES shipments (id) ON DELETE CASCADE,
    order_item_id  bigint NOT NULL REFERENCES order_items (id) ON DELETE CASCADE,
    quantity       integer NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (shipment_id, order_item_id)
);

