-- The reference price the pre-trade controls used for an order, as exact TEXT.
-- A market order has no price of its own: until it fills, its share of the
-- day's notional is its quantity at this price, so that an order accepted but
-- not yet filled still counts against `max_daily_notional`.
ALTER TABLE orders ADD COLUMN check_price TEXT;
