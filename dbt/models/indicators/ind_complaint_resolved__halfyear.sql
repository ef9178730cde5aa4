{#- CP_RESOLVED: closed complaints (not WITHDRAWN; result NULL kept) accepted in the period
    with result RESOLVED / all such complaints. -#}
with

complaints as (
    select * from {{ ref('fct_complaints') }}
),

items as (
    select
        city_code,
        case when result = 'RESOLVED' then 1 else 0 end as numerator,
        1 as denominator
    from complaints
    where
        close_time is not null
        and result is distinct from 'WITHDRAWN'
        and {{ in_period('accept_time') }}
)

{{ rollup_indicator('CP_RESOLVED', 'items') }}
