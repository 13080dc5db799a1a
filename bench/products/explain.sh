#!/usr/bin/env bash
# Query plans of the statements behind the three diverse-query mixes of
# `MODE=diverse bench/products/run.sh`, on a seeded PostgreSQL products
# database, as `EXPLAIN (ANALYZE, BUFFERS)`. One representative of each
# shape a mix sends (the service's statements written out by hand, with
# the values of one request); the buffers show what each reads.
#
#   DATABASE_URL=postgres://postgres@127.0.0.1:55432/bench_products_100000 \
#     bench/products/explain.sh > plans.txt
#
# STATEMENTS=before prints the statements of the service before issue 33
# instead (ranked word search with count(*) OVER (), facets as UNION ALL,
# deep pages by OFFSET over whole rows).
set -euo pipefail
url=${DATABASE_URL:?DATABASE_URL: the seeded database}
which=${STATEMENTS:-after}

explain() { # title sql
    echo "### $1"
    echo
    echo '```'
    echo "$2"
    echo
    psql -X -q "$url" -c "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) $2" | sed '/^$/d'
    echo '```'
    echo
}

filter_facets="category = 'Category 3' AND price_minor >= 12000 AND stock_qty > 0"
band="CASE WHEN price_minor < 1000 THEN '0' WHEN price_minor < 2500 THEN '1000' WHEN price_minor < 5000 THEN '2500' WHEN price_minor < 10000 THEN '5000' WHEN price_minor < 25000 THEN '10000' WHEN price_minor < 50000 THEN '25000' WHEN price_minor < 100000 THEN '50000' ELSE '100000' END"
words="websearch_to_tsquery('english', 'kettle')"

echo "## Plans ($which), $(psql -X -Atq "$url" -c 'SELECT count(*) FROM products') products"
echo
if [ "$which" = before ]; then
    explain "browse: page 200 by -created_at, 20 a page" \
        "SELECT * FROM products ORDER BY created_at DESC, id DESC LIMIT 20 OFFSET 3980"
    explain "browse: a category by price, page 50" \
        "SELECT * FROM products WHERE category = 'Category 3' ORDER BY price_minor, id LIMIT 20 OFFSET 980"
    explain "search: one noun, page 3, ranked with its total" \
        "SELECT *, count(*) OVER () FROM products WHERE search_vector @@ $words ORDER BY ts_rank(search_vector, $words) DESC, id DESC LIMIT 20 OFFSET 40"
    explain "facets: one GROUP BY per facet" \
        "SELECT 'category', category, COUNT(*) FROM products WHERE $filter_facets GROUP BY category UNION ALL SELECT 'brand', brand, COUNT(*) FROM products WHERE $filter_facets AND brand IS NOT NULL GROUP BY brand UNION ALL SELECT 'price', $band, COUNT(*) FROM products WHERE $filter_facets GROUP BY $band"
    explain "facets: the bounded total" \
        "SELECT COUNT(*) FROM (SELECT 1 FROM products WHERE $filter_facets LIMIT 10001) AS matches"
else
    explain "browse: page 200 by -created_at, 20 a page: ids from the index" \
        "SELECT id FROM products ORDER BY created_at DESC, id DESC LIMIT 20 OFFSET 3980"
    explain "browse: a category by price, page 50: ids from the index" \
        "SELECT id FROM products WHERE category = 'Category 3' ORDER BY price_minor, id LIMIT 20 OFFSET 980"
    explain "browse: a brand, a price range, in stock (bounded total)" \
        "SELECT COUNT(*) FROM (SELECT 1 FROM products WHERE brand = 'Brand 7' AND price_minor BETWEEN 12000 AND 18000 AND stock_qty > 0 LIMIT 10001) AS matches"
    explain "browse: a brand, a price range, in stock (page)" \
        "SELECT * FROM products WHERE brand = 'Brand 7' AND price_minor BETWEEN 12000 AND 18000 AND stock_qty > 0 ORDER BY created_at DESC, id DESC LIMIT 20"
    explain "search: one noun, the bounded total" \
        "SELECT COUNT(*) FROM (SELECT 1 FROM products WHERE search_vector @@ $words LIMIT 201) AS matches"
    explain "search: one noun, page 3, first tier (every word in the title)" \
        "SELECT * FROM products WHERE search_vector @@ $words AND title_vector @@ $words ORDER BY id DESC LIMIT 20 OFFSET 40"
    explain "search: two words of the descriptions, page 5, last tier (the rest: not every word in the title)" \
        "SELECT * FROM products WHERE search_vector @@ websearch_to_tsquery('english', 'sturdy everyday') AND NOT (title_vector @@ websearch_to_tsquery('english', 'sturdy everyday')) ORDER BY id DESC LIMIT 20 OFFSET 80"
    explain "facets: every facet in one pass (GROUPING SETS); the total is their sum" \
        "SELECT CASE WHEN GROUPING(category) = 0 THEN 'category' WHEN GROUPING(brand) = 0 THEN 'brand' ELSE 'price' END, CASE WHEN GROUPING(category) = 0 THEN category WHEN GROUPING(brand) = 0 THEN brand ELSE band END, COUNT(*) FROM (SELECT category, brand, $band AS band FROM products WHERE $filter_facets) AS matches GROUP BY GROUPING SETS ((category), (brand), (band))"
    explain "facets: the page" \
        "SELECT * FROM products WHERE $filter_facets ORDER BY created_at DESC, id DESC LIMIT 20 OFFSET 20"
fi
