-- broken / 0002: FAILS ON PURPOSE at line 7, column 8 with SQLSTATE 42703 (undefined_column).
-- The first statement below succeeds, the SELECT on line 7 references a missing column.

CREATE TABLE gadgets (id serial PRIMARY KEY, widget_id integer REFERENCES widgets (id));

-- next statement is the deliberate error
SELECT missing_column FROM widgets;
