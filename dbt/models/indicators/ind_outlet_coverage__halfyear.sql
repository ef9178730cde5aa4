{#- CH_COVER_DISTRICT / CH_COVER_COUNTY / CH_COVER_TOWNSHIP: share of areas of a level with
    at least one outlet open on the last day (county_code, or township_code for townships). -#}
with

areas as (
    select * from {{ ref('dim_area') }}
),

open_outlets as (
    select * from {{ ref('dim_outlet') }}
    where is_open_on_last_day
),

covered as (
    select
        areas.area_code,
        areas.level,
        areas.city_code,
        exists(
            select 1
            from open_outlets as o
            where
                (areas.level = 'TOWNSHIP' and o.township_code = areas.area_code)
                or (areas.level in ('DISTRICT', 'COUNTY') and o.county_code = areas.area_code)
        ) as has_outlet
    from areas
    where areas.level in ('DISTRICT', 'COUNTY', 'TOWNSHIP')
),

{% for level in ['DISTRICT', 'COUNTY', 'TOWNSHIP'] %}
items_{{ level | lower }} as (
    select
        city_code,
        case when has_outlet then 1 else 0 end as numerator,
        1 as denominator
    from covered
    where level = '{{ level }}'
),

rolled_{{ level | lower }} as (
    {{ rollup_indicator('CH_COVER_' ~ level, 'items_' ~ (level | lower)) }}
){% if not loop.last %},{% endif %}
{% endfor %}

select * from rolled_district
union all
select * from rolled_county
union all
select * from rolled_township
