{#- The candidate publication for one half year: every published indicator of the catalogue,
    per city and province (and breakdown where the catalogue names one). The gate validates
    this table; publish.py copies it into reporting.half_year_indicators. -#}
with

computed as (
    -- catalogue order (indicators.md)
    select * from {{ ref('ind_outlets__halfyear') }}
    union all
    select * from {{ ref('ind_outlet_coverage__halfyear') }}
    union all
    select * from {{ ref('ind_outlet_wait__halfyear') }}
    union all
    select * from {{ ref('ind_outlet_handle__halfyear') }}
    union all
    select * from {{ ref('ind_e_channel_share__halfyear') }}
    union all
    select * from {{ ref('ind_hotline_answer__halfyear') }}
    union all
    select * from {{ ref('ind_hotline_abandon__halfyear') }}
    union all
    select * from {{ ref('ind_ivr_self_service__halfyear') }}
    union all
    select * from {{ ref('ind_first_call_resolution__halfyear') }}
    union all
    select * from {{ ref('ind_hotline_satisfaction__halfyear') }}
    union all
    select * from {{ ref('ind_install_ontime__halfyear') }}
    union all
    select * from {{ ref('ind_resume_ontime__halfyear') }}
    union all
    select * from {{ ref('ind_fault_rate__halfyear') }}
    union all
    select * from {{ ref('ind_fault_repair__halfyear') }}
    union all
    select * from {{ ref('ind_fault_repeat__halfyear') }}
    union all
    select * from {{ ref('ind_billing_error__halfyear') }}
    union all
    select * from {{ ref('ind_appeal_rate__halfyear') }}
    union all
    select * from {{ ref('ind_complaint_ontime__halfyear') }}
    union all
    select * from {{ ref('ind_complaint_resolved__halfyear') }}
    union all
    select * from {{ ref('ind_spam_handled__halfyear') }}
    union all
    select * from {{ ref('ind_care_cover__halfyear') }}
    union all
    select * from {{ ref('ind_customer_satisfaction__halfyear') }}
),

catalogue as (
    select * from {{ ref('indicator_catalogue') }}
    where is_published
),

cities as (
    select city_code from {{ ref('dim_city') }}
),

-- every city and the province get a row per indicator, even without items (zero denominator)
spine as (
    select
        catalogue.indicator_code,
        'CITY' as geo_level,
        cities.city_code
    from catalogue
    cross join cities
    union all
    select
        catalogue.indicator_code,
        'PROVINCE' as geo_level,
        null as city_code
    from catalogue
),

headline as (
    select
        spine.indicator_code,
        spine.geo_level,
        spine.city_code,
        null::text as breakdown_type,
        null::text as breakdown,
        coalesce(computed.numerator, 0) as numerator,
        case
            when catalogue.unit = 'count' then null
            else coalesce(computed.denominator, 0)
        end as denominator
    from spine
    inner join catalogue on spine.indicator_code = catalogue.indicator_code
    left join computed
        on
            spine.indicator_code = computed.indicator_code
            and spine.geo_level = computed.geo_level
            and spine.city_code is not distinct from computed.city_code
            and computed.breakdown_type is null
),

-- breakdown values with items, for the province and the known cities (items of other city
-- codes count only in the province)
breakdowns as (
    select
        indicator_code,
        geo_level,
        city_code,
        breakdown_type,
        breakdown,
        numerator,
        denominator
    from computed
    where
        breakdown_type is not null
        and breakdown is not null
        and denominator > 0
        and (geo_level = 'PROVINCE' or city_code in (select cities.city_code from cities))
),

rows_ as (
    select * from headline
    union all
    select * from breakdowns
),

final as (
    select
        '{{ period_code() }}'::text as period,
        r.geo_level,
        r.city_code,
        r.breakdown_type,
        r.breakdown,
        r.indicator_code,
        r.numerator,
        r.denominator,
        case
            when c.unit = 'count' then r.numerator
            when r.denominator > 0 then round(c.scale * r.numerator / r.denominator, 2)
        end as value,
        c.unit,
        c.target,
        c.comparison,
        case
            when c.unit <> 'count' and r.denominator = 0 then 'zero denominator: no items in this period'
        end as null_reason
    from rows_ as r
    inner join catalogue as c on r.indicator_code = c.indicator_code
)

select
    period,
    geo_level,
    city_code,
    breakdown_type,
    breakdown,
    indicator_code,
    numerator,
    denominator,
    value,
    unit,
    target,
    comparison,
    case
        when value is null or target is null then null
        when comparison = '>=' then value >= target
        when comparison = '<=' then value <= target
    end as meets_target,
    null_reason
from final
