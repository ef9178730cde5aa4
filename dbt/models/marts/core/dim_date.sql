{#- Calendar of local (Asia/Shanghai) days, with the half year, bill month and the day's
    bounds as timestamptz. -#}
with

days as (
    select d::date as date_day
    from generate_series(date '2000-01-01', date '2035-12-31', interval '1 day') as d
),

final as (
    select
        date_day,
        extract(year from date_day)::integer as year,
        extract(year from date_day)::integer::text
        || case when extract(month from date_day) <= 6 then 'H1' else 'H2' end as half_year,
        extract(quarter from date_day)::integer as quarter,
        extract(month from date_day)::integer as month,
        to_char(date_day, 'YYYYMM') as bill_month,
        extract(day from date_day)::integer as day_of_month,
        extract(isodow from date_day)::integer as iso_day_of_week,
        extract(isodow from date_day) >= 6 as is_weekend,
        date_day = (date_trunc('month', date_day) + interval '1 month - 1 day')::date as is_month_end,
        (date_day::timestamp at time zone '{{ var("timezone") }}') as day_start,
        ((date_day + 1)::timestamp at time zone '{{ var("timezone") }}') as day_end,
        extract(year from date_day)::integer::text
        || case when extract(month from date_day) <= 6 then 'H1' else 'H2' end
        = '{{ period_code() }}' as is_in_period
    from days
)

select * from final
