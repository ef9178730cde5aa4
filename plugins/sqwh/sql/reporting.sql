-- The published contract (indicators.md, "Published contract"). Written only by publish.py.
create table if not exists reporting.half_year_indicators (
    period text not null,
    geo_level text not null check (geo_level in ('PROVINCE', 'CITY')),
    city_code text,
    breakdown_type text,
    breakdown text,
    indicator_code text not null,
    numerator numeric,
    denominator numeric,
    value numeric,
    unit text not null,
    target numeric,
    comparison text check (comparison in ('>=', '<=')),
    meets_target boolean,
    previous_value numeric,
    change numeric,
    publication_id bigint not null,
    null_reason text
);
create unique index if not exists half_year_indicators_grain on reporting.half_year_indicators (
    period, indicator_code, coalesce(city_code, ''), coalesce(breakdown_type, ''), coalesce(breakdown, '')
);
grant select on reporting.half_year_indicators to bi_reader;

-- Every figure a re-publication replaced, exactly as it was published (reliability.md B7):
-- `where publication_id = N` gives back a superseded publication whole.
create table if not exists audit.superseded_indicators (like reporting.half_year_indicators);
create index if not exists superseded_indicators_publication
    on audit.superseded_indicators (publication_id);
