{#- CC_ABANDON: agent requests queued in the period (short abandons excluded, the population
    of CC_ANSWER_15S) that were never answered. -#}
with

calls as (
    select * from {{ ref('fct_calls') }}
),

items as (
    select
        city_code,
        case when answer_time is null then 1 else 0 end as numerator,
        1 as denominator
    from calls
    where
        is_agent_request
        and not is_short_abandon
        and {{ in_period('queue_start') }}
)

{{ rollup_indicator('CC_ABANDON', 'items') }}
