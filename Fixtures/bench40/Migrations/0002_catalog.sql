-- bench40 / 0002: product catalog and inventory
CREATE TABLE categories (
    id         serial PRIMARY KEY,
    parent_id  integer REFERENCES categories (id) ON DELETE SET NULL,
    slug       text NOT NULL UNIQUE,
    name       text NOT NULL,
    position   integer NOT NULL DEFAULT 0 CHECK (position >= 0)
);
CREATE INDEX categories_parent_id_idx ON categories (parent_id);

CREATE TABLE brands (
    id       serial PRIMARY KEY,
    name     text NOT NULL UNIQUE,
    website  text
);

CREATE TABLE products (
    id           bigserial PRIMARY KEY,
    account_id   bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    category_id  integer REFERENCES categories (id) ON DELETE SET NULL,
    brand_id     integer REFERENCES brands (id) ON DELETE SET NULL,
    sku          text NOT NULL,
    name         text NOT NULL,
    description  text,
    price_cents  integer NOT NULL CHECK (price_cents >= 0),
    currency     char(3) NOT NULL DEFAULT 'USD',
    is_published boolean NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT products_account_sku_key UNIQUE (account_id, sku),
    CONSTRAINT products_currency_upper CHECK (currency = upper(currency))
);
CREATE INDEX products_category_id_idx ON products (category_id);
CREATE INDEX products_published_idx ON products (account_id, created_at DESC) WHERE is_published;

CREATE TABLE product_variants (
    id            bigserial PRIMARY KEY,
    product_id    bigint NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    sku           text NOT NULL UNIQUE,
    option_name   text NOT NULL,
    option_value  text NOT NULL,
    price_cents   integer CHECK (price_cents IS NULL OR price_cents >= 0),
    weight_grams  integer CHECK (weight_grams > 0)
);
CREATE INDEX product_variants_product_id_idx ON product_variants (product_id);

CREATE TABLE tags (
    id    serial PRIMARY KEY,
    name  text NOT NULL UNIQUE
);

CREATE TABLE product_tags (
    product_id  bigint NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    tag_id      integer NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    PRIMARY KEY (product_id, tag_id)
);
CREATE INDEX product_tags_tag_id_idx ON product_tags (tag_id);

CREATE TABLE warehouses (
    id        serial PRIMARY KEY,
    code      text NOT NULL UNIQUE CHECK (length(code) BETWEEN 2 AND 10),
    name      text NOT NULL,
    country   char(2) NOT NULL,
    is_active boolean NOT NULL DEFAULT true
);

CREATE TABLE inventory_levels (
    variant_id    bigint NOT NULL REFERENCES product_variants (id) ON DELETE CASCADE,
    warehouse_id  integer NOT NULL REFERENCES warehouses (id) ON DELETE CASCADE,
    on_hand       integer NOT NULL DEFAULT 0 CHECK (on_hand >= 0),
    reserved      integer NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (variant_id, warehouse_id),
    CONSTRAINT inventory_reserved_le_on_hand CHECK (reserved <= on_hand)
);
CREATE INDEX inventory_levels_low_stock_idx ON inventory_levels (warehouse_id, on_hand) WHERE on_hand < 10;

CREATE TABLE price_lists (
    id          serial PRIMARY KEY,
    account_id  bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name        text NOT NULL,
    currency    char(3) NOT NULL DEFAULT 'USD',
    valid_from  date NOT NULL DEFAULT current_date,
    valid_to    date,
    CONSTRAINT price_lists_valid_range CHECK (valid_to IS NULL OR valid_to > valid_from)
);

CREATE TABLE price_list_items (
    price_list_id  integer NOT NULL REFERENCES price_lists (id) ON DELETE CASCADE,
    variant_id     bigint NOT NULL REFERENCES product_variants (id) ON DELETE CASCADE,
    price_cents    integer NOT NULL CHECK (price_cents >= 0),
    PRIMARY KEY (price_list_id, variant_id)
);

CREATE TABLE reviews (
    id          bigserial PRIMARY KEY,
    product_id  bigint NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    user_id     bigint REFERENCES users (id) ON DELETE SET NULL,
    rating      smallint NOT NULL CHECK (rating BETWEEN 1 AND 5),
    title       text,
    body        text,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reviews_product_rating_idx ON reviews (product_id, rating);
CREATE UNIQUE INDEX reviews_one_per_user_idx ON reviews (product_id, user_id) WHERE user_id IS NOT NULL;
