-- bench40 seed: deterministic generated data for a fresh database (not idempotent).
-- Ids are assumed to start at 1 because this runs once into a freshly migrated template.

INSERT INTO accounts (slug, name, plan, seats)
SELECT 'acme-' || g, 'Acme Corp ' || g,
       (ARRAY['free', 'starter', 'pro', 'enterprise', 'pro']::account_plan[])[g], g * 5
FROM generate_series(1, 5) g;

INSERT INTO account_settings (account_id, key, value)
SELECT a, k, jsonb_build_object('enabled', (a + length(k)) % 2 = 0, 'updated_by', 'seed')
FROM generate_series(1, 5) a, unnest(ARRAY['timezone', 'locale']) k;

INSERT INTO users (account_id, email, display_name, password_hash, is_admin, last_login_at)
SELECT ((g - 1) % 5) + 1, 'user' || g || '@example.com', 'User ' || g,
       md5('password' || g), g <= 5, now() - g * interval '1 hour'
FROM generate_series(1, 40) g;

INSERT INTO permissions (code, description)
SELECT p, 'Allows ' || replace(p, '.', ' ')
FROM unnest(ARRAY['orders.read', 'orders.write', 'products.read', 'products.write',
                  'billing.read', 'billing.write', 'users.read', 'users.write',
                  'settings.read', 'settings.write', 'reports.read', 'webhooks.manage']) p;

INSERT INTO roles (account_id, name, description)
SELECT a, r, initcap(r) || ' role'
FROM generate_series(1, 5) a, unnest(ARRAY['admin', 'staff', 'viewer']) r;

INSERT INTO role_permissions (role_id, permission_id)
SELECT r.id, p.id
FROM roles r JOIN permissions p
  ON r.name = 'admin'
  OR (r.name = 'staff' AND p.code NOT LIKE '%.manage' AND p.code NOT LIKE 'billing.%')
  OR (r.name = 'viewer' AND p.code LIKE '%.read');

INSERT INTO user_roles (user_id, role_id)
SELECT u.id, r.id
FROM users u JOIN roles r ON r.account_id = u.account_id
 AND r.name = CASE WHEN u.is_admin THEN 'admin' WHEN u.id % 2 = 0 THEN 'staff' ELSE 'viewer' END;

INSERT INTO teams (account_id, name)
SELECT a, t FROM generate_series(1, 5) a, unnest(ARRAY['Sales', 'Support']) t;

INSERT INTO team_members (team_id, user_id, is_lead)
SELECT t.id, u.id, u.is_admin
FROM users u JOIN teams t ON t.account_id = u.account_id
 AND t.name = CASE WHEN u.id % 2 = 0 THEN 'Sales' ELSE 'Support' END;

INSERT INTO api_keys (account_id, created_by, prefix, key_hash, scopes, revoked_at)
SELECT g, g, lpad(to_hex(g * 4099), 8, '0'), md5('key' || g), ARRAY['orders.read', 'products.read'],
       CASE WHEN g = 5 THEN now() END
FROM generate_series(1, 5) g;

INSERT INTO sessions (user_id, user_agent, ip_address, created_at, expires_at)
SELECT ((g - 1) % 40) + 1, 'Mozilla/5.0 (bench40 seed ' || g || ')',
       ('10.0.' || (g / 256) || '.' || (g % 256))::inet,
       now() - g * interval '1 minute', now() + interval '7 days'
FROM generate_series(1, 20) g;

INSERT INTO categories (parent_id, slug, name, position)
SELECT NULL, c, initcap(c), ord - 1
FROM unnest(ARRAY['apparel', 'electronics', 'home', 'outdoors']) WITH ORDINALITY AS t(c, ord);
INSERT INTO categories (parent_id, slug, name, position)
SELECT p, s, initcap(replace(s, '-', ' ')), 0
FROM (VALUES (1, 'shirts'), (1, 'shoes'), (2, 'audio'), (3, 'kitchen')) v(p, s);

INSERT INTO brands (name, website)
SELECT 'Brand ' || g, 'https://brand' || g || '.example.com' FROM generate_series(1, 5) g;

INSERT INTO products (account_id, category_id, brand_id, sku, name, description, price_cents, is_published)
SELECT ((g - 1) % 5) + 1, ((g - 1) % 8) + 1, ((g - 1) % 5) + 1, 'SKU-' || lpad(g::text, 5, '0'),
       'Product ' || g, repeat('A fine product for everyday use. ', 3), 500 + g * 137 % 9500, g % 4 <> 0
FROM generate_series(1, 50) g;

INSERT INTO product_variants (product_id, sku, option_name, option_value, price_cents, weight_grams)
SELECT p, 'SKU-' || lpad(p::text, 5, '0') || '-' || v, 'size', (ARRAY['S', 'L'])[v],
       CASE WHEN v = 2 THEN 700 + p * 137 % 9500 END, 100 + p * 10 + v
FROM generate_series(1, 50) p, generate_series(1, 2) v;

INSERT INTO tags (name)
SELECT t FROM unnest(ARRAY['new', 'sale', 'eco', 'bestseller', 'limited',
                           'gift', 'premium', 'bundle', 'clearance', 'featured']) t;

INSERT INTO product_tags (product_id, tag_id)
SELECT p, ((p + k * 3) % 10) + 1 FROM generate_series(1, 50) p, generate_series(0, 1) k
WHERE k = 0 OR p % 2 = 0;

INSERT INTO warehouses (code, name, country)
VALUES ('US-E', 'US East', 'US'), ('US-W', 'US West', 'US'), ('EU-C', 'EU Central', 'DE');

INSERT INTO inventory_levels (variant_id, warehouse_id, on_hand, reserved)
SELECT v, w, (v * 7 + w * 11) % 60, ((v * 7 + w * 11) % 60) / 4
FROM generate_series(1, 100) v, generate_series(1, 3) w
WHERE (v + w) % 3 = 0;

INSERT INTO price_lists (account_id, name, valid_from, valid_to)
SELECT g, 'Wholesale ' || g, DATE '2024-01-01', DATE '2030-12-31' FROM generate_series(1, 5) g;

INSERT INTO price_list_items (price_list_id, variant_id, price_cents)
SELECT pr.account_id, v.id, 400 + v.id * 91 % 8000
FROM product_variants v JOIN products pr ON pr.id = v.product_id;

INSERT INTO reviews (product_id, user_id, rating, title, body, created_at)
SELECT ((g - 1) % 50) + 1, ((g - 1) % 40) + 1, (g % 5) + 1, 'Review ' || g,
       'Seeded review text number ' || g || '. ' || repeat('Works as described. ', g % 4 + 1),
       now() - g * interval '1 day'
FROM generate_series(1, 60) g;

INSERT INTO addresses (account_id, user_id, kind, line1, city, region, postal_code, country, is_default)
SELECT u.account_id, u.id, 'shipping', u.id || ' Main Street', 'Springfield', 'IL',
       lpad((60000 + u.id)::text, 5, '0'), 'US', true
FROM users u;

INSERT INTO carts (account_id, user_id)
SELECT account_id, id FROM users WHERE id <= 10;

INSERT INTO cart_items (cart_id, variant_id, quantity)
SELECT c, ((c * 17 + k * 29) % 100) + 1, k + 1 FROM generate_series(1, 10) c, generate_series(0, 1) k;

INSERT INTO orders (account_id, user_id, number, status, shipping_address_id, billing_address_id,
                    tax_cents, shipping_cents, placed_at)
SELECT u.account_id, u.id, 'ORD-' || lpad(g::text, 6, '0'),
       (ARRAY['pending', 'paid', 'shipped', 'delivered', 'cancelled']::order_status[])[(g % 5) + 1],
       u.id, u.id, (g * 37) % 500, 499, now() - g * interval '6 hours'
FROM generate_series(1, 50) g JOIN users u ON u.id = ((g - 1) % 40) + 1
ORDER BY g;

INSERT INTO order_items (order_id, variant_id, description, quantity, unit_price_cents)
SELECT o, ((o * 7 + k * 13) % 100) + 1, 'Line item ' || k || ' of order ' || o, k + 1, 300 + (o * k * 53) % 4000
FROM generate_series(1, 50) o, generate_series(1, 2) k;

UPDATE orders o
SET subtotal_cents = s.total,
    discount_cents = CASE WHEN o.id % 10 = 0 THEN s.total / 10 ELSE 0 END
FROM (SELECT order_id, sum(quantity * unit_price_cents)::int AS total FROM order_items GROUP BY order_id) s
WHERE s.order_id = o.id;

INSERT INTO order_status_history (order_id, from_status, to_status, changed_by, changed_at)
SELECT o.id, NULL, 'pending', o.user_id, o.placed_at FROM orders o;
INSERT INTO order_status_history (order_id, from_status, to_status, changed_by, changed_at)
SELECT o.id, 'pending', o.status, NULL, o.placed_at + interval '1 hour' FROM orders o WHERE o.status <> 'pending';

INSERT INTO shipments (order_id, warehouse_id, carrier, tracking_number, shipped_at, delivered_at)
SELECT o.id, (o.id % 3) + 1, (ARRAY['UPS', 'FedEx', 'DHL'])[(o.id % 3) + 1], '1Z' || lpad(o.id::text, 10, '0'),
       o.placed_at + interval '1 day',
       CASE WHEN o.status = 'delivered' THEN o.placed_at + interval '3 days' END
FROM orders o WHERE o.status IN ('shipped', 'delivered');

INSERT INTO shipment_items (shipment_id, order_item_id, quantity)
SELECT s.id, oi.id, oi.quantity FROM shipments s JOIN order_items oi ON oi.order_id = s.order_id;

INSERT INTO tax_rates (country, region, rate_bps)
VALUES ('US', 'IL', 625), ('US', 'CA', 725), ('US', 'NY', 400), ('DE', NULL, 1900), ('GB', NULL, 2000);

INSERT INTO coupons (account_id, code, percent_off, amount_off_cents, max_redemptions, expires_at)
SELECT g, 'SAVE' || (g * 5), CASE WHEN g % 2 = 1 THEN (g * 5)::smallint END,
       CASE WHEN g % 2 = 0 THEN g * 100 END, 100, now() + interval '90 days'
FROM generate_series(1, 5) g;

INSERT INTO order_coupons (order_id, coupon_id)
SELECT o.id, o.account_id FROM orders o WHERE o.id % 10 = 0;

INSERT INTO invoices (account_id, order_id, number, issued_on, due_on, total_cents, paid_at, voided_at)
SELECT o.account_id, o.id, 'INV-' || lpad(o.id::text, 6, '0'), o.placed_at::date, o.placed_at::date + 30,
       o.subtotal_cents - o.discount_cents + o.tax_cents + o.shipping_cents,
       CASE WHEN o.status IN ('paid', 'shipped', 'delivered') THEN o.placed_at + interval '2 hours' END,
       CASE WHEN o.status = 'cancelled' THEN o.placed_at + interval '1 day' END
FROM orders o;

INSERT INTO invoice_lines (invoice_id, description, quantity, unit_amount_cents, tax_rate_id)
SELECT i.id, oi.description, oi.quantity, oi.unit_price_cents, 1
FROM invoices i JOIN order_items oi ON oi.order_id = i.order_id;

INSERT INTO payments (invoice_id, status, method, amount_cents, provider_ref, created_at)
SELECT i.id, 'captured', (ARRAY['card', 'bank_transfer', 'wallet'])[(i.id % 3) + 1], i.total_cents,
       'pay_' || md5(i.number), i.paid_at
FROM invoices i WHERE i.paid_at IS NOT NULL;

INSERT INTO refunds (payment_id, amount_cents, reason)
SELECT p.id, p.amount_cents / 2, 'Partial refund for damaged item' FROM payments p WHERE p.id % 6 = 0;

INSERT INTO subscriptions (account_id, plan, status, current_period_start, current_period_end)
SELECT a.id, a.plan, CASE WHEN a.plan = 'free' THEN 'trialing' ELSE 'active' END,
       date_trunc('month', now()), date_trunc('month', now()) + interval '1 month'
FROM accounts a;

INSERT INTO notifications (user_id, channel, subject, body, read_at)
SELECT ((g - 1) % 40) + 1, (ARRAY['email', 'sms', 'push', 'in_app'])[(g % 4) + 1],
       'Notification ' || g, 'Your order update number ' || g || ' is available.',
       CASE WHEN g % 3 = 0 THEN now() END
FROM generate_series(1, 50) g;

INSERT INTO webhooks (account_id, url, events, secret)
SELECT g, 'https://hooks.example.com/acme-' || g, ARRAY['order.created', 'order.paid'], md5('whsec' || g)
FROM generate_series(1, 5) g;

INSERT INTO webhook_deliveries (webhook_id, event, payload, status_code, attempt, delivered_at)
SELECT ((g - 1) % 5) + 1, CASE WHEN g % 2 = 0 THEN 'order.created' ELSE 'order.paid' END,
       jsonb_build_object('order_id', g, 'attempt', 1),
       CASE WHEN g % 7 = 0 THEN 500 ELSE 200 END, 1, now()
FROM generate_series(1, 30) g;

-- The bulk table: a couple of thousand audit rows with some text so one table has realistic weight.
INSERT INTO audit_log (account_id, actor_id, action, entity_type, entity_id, details, message, created_at)
SELECT ((g - 1) % 5) + 1, ((g - 1) % 40) + 1,
       (ARRAY['insert', 'update', 'delete', 'login', 'export'])[(g % 5) + 1],
       (ARRAY['order', 'product', 'invoice', 'user'])[(g % 4) + 1], (g % 50) + 1,
       jsonb_build_object('request_id', md5(g::text), 'ip', '10.1.' || (g % 250) || '.' || (g % 200),
                          'changes', jsonb_build_object('field', 'status', 'old', 'pending', 'new', 'paid')),
       'Audit event ' || g || ': ' || repeat(md5((g * 31)::text) || ' ', 3),
       now() - g * interval '5 minutes'
FROM generate_series(1, 2000) g;
