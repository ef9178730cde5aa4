{#- CH_OUTLETS: outlets open on the period's last day (a count: no denominator). -#}
with

outlets as (
    select * from {{ ref('dim_outlet') }}
),

items as (
    select
        city_code,
        1 as numerator,
        null::integer as denominator
    from outlets
    where is_open_on_last_day
)

{{ rollup_indicator('CH_OUTLETS', 'items') }}
