{#- CC_ANSWER_15S (by skill_group too): agent requests queued in the period, short abandons
    (no answer, hung up within 5 s) excluded; answered within 15 s of queue_start. -#}
with

calls as (
    select * from {{ ref('fct_calls') }}
),

items as (
    select
        city_code,
        skill_group as breakdown,
        case when is_answered_within_15s then 1 else 0 end as numerator,
        1 as denominator
    from calls
    where
        is_agent_request
        and not is_short_abandon
        and {{ in_period('queue_start') }}
)

{{ rollup_indicator('CC_ANSWER_15S', 'items', breakdown_type='skill_group') }}
