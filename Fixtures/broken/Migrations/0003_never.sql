-- broken / 0003: must never be applied because 0002 fails
CREATE TABLE never_applied (id int);
