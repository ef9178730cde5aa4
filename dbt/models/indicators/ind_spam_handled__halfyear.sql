{#- SP_HANDLED_24H: spam-SMS reports, timeliness rule from received_time to handled_time,
    limit 24 h from the time_limits seed. -#}
with

reports as (
    select * from {{ ref('fct_spam_reports') }}
),

items as (
    select
        city_code,
        {{ timeliness_numerator('received_time', 'handled_time', 'handling_limit') }} as numerator,
        {{ timeliness_denominator('received_time', 'handled_time', 'handling_limit') }} as denominator
    from reports
    where
        handling_limit is not null
        and {{ in_period('received_time') }}
)

{{ rollup_indicator('SP_HANDLED_24H', 'items') }}
