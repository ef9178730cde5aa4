{#- CP_ONTIME: complaints (not withdrawn) closed within their limit (15 days for regulator
    appeals, 48 h otherwise; time_limits seed), timeliness rule from accept_time. -#}
with

complaints as (
    select * from {{ ref('fct_complaints') }}
),

items as (
    select
        city_code,
        {{ timeliness_numerator('accept_time', 'close_time', 'handling_limit') }} as numerator,
        {{ timeliness_denominator('accept_time', 'close_time', 'handling_limit') }} as denominator
    from complaints
    where
        {{ in_period('accept_time') }}
        and result is distinct from 'WITHDRAWN'
)

{{ rollup_indicator('CP_ONTIME', 'items') }}
