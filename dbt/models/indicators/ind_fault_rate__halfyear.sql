{#- FT_RATE: faults reported in the period / (average monthly FIXED + BROADBAND lines in
    service x 6) = the sum of those lines over the period's six bill months (a missing month
    counts 0); scale 100 gives faults per 100 lines per month. -#}
with

faults as (
    select * from {{ ref('fct_faults') }}
),

bills as (
    select * from {{ ref('fct_bills') }}
),

items as (
    select
        city_code,
        1 as numerator,
        0 as denominator
    from faults
    where {{ in_period('report_time') }}
    union all
    -- average x 6 = the sum over the six months
    {{ monthly_average_items('bills', 'lines_in_service', 'is_fixed_network') }}
)

{{ rollup_indicator('FT_RATE', 'items') }}
