DROP FUNCTION reserve_stock(TEXT[], BIGINT[]);
