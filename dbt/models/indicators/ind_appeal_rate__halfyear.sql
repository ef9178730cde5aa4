{#- CP_RATE: regulator appeals (CRM_COMPLAINT source REGULATOR, any result, by accept_time) /
    average monthly subscribers in service over all products (sum over the period's six bill
    months / 6; a missing month counts 0); scale 1000000 (per million). -#}
with

complaints as (
    select * from {{ ref('fct_complaints') }}
),

bills as (
    select * from {{ ref('fct_bills') }}
),

items as (
    select
        city_code,
        1 as numerator,
        0 as denominator
    from complaints
    where
        source = 'REGULATOR'
        and {{ in_period('accept_time') }}
    union all
    {{ monthly_average_items('bills', 'subscribers_in_service') }}
)

-- average over the six bill months: the sum divided once, after summing
{{ rollup_indicator('CP_RATE', 'items', denominator_divisor=months_per_period()) }}
