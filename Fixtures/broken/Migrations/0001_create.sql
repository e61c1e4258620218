-- broken / 0001: creates widgets and inserts two rows (applies cleanly)
CREATE TABLE widgets (id serial PRIMARY KEY, name text NOT NULL);
INSERT INTO widgets (name) VALUES ('alpha'), ('beta');
