{#- CRM_COMPLAINT, one row per complaint_id (the latest delivery wins; see
    macros/incremental.sql), contact phone pseudonymised. Incremental: a build reads the raw
    rows of new loads only. -#}
{{
    config(
        materialized='incremental',
        unique_key='complaint_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        indexes=[
            {'columns': ['complaint_id'], 'unique': true},
            {'columns': ['load_id']},
            {'columns': ['refreshed_at']},
        ],
        post_hook="{{ delete_stale_rows('CRM_COMPLAINT') }}",
    )
}}
{%- set loads = incremental_loads('CRM_COMPLAINT') %}

with

source as (
    select * from {{ source('raw', 'crm_complaint') }}
    {%- if incremental_ready() %}
    where
        _load_id in {{ load_list(loads.new) }}
    {%- if loads.stale %}
        or complaint_id in (select complaint_id from {{ this }} where load_id in {{ load_list(loads.stale) }})
        {%- endif %}
    {%- endif %}
),

renamed as (
    select
        s.complaint_id,
        s.customer_id,
        {{ pseudonymise('s.phone') }} as phone_key,
        s.city_code,
        s.source,
        s.category,
        s.accept_time,
        s.first_response_time,
        s.close_time,
        s.result,
        s._business_date as business_date,
        s._load_id as load_id,
        s._record_no as record_no
    from source as s
    cross join {{ pseudonym_key_relation() }} as k
),

candidates as (
    select * from renamed
    {%- if incremental_ready() %}
    union all
    -- the current winner of a changed key competes with the new deliveries
    select
        t.complaint_id,
        t.customer_id,
        t.phone_key,
        t.city_code,
        t.source,
        t.category,
        t.accept_time,
        t.first_response_time,
        t.close_time,
        t.result,
        t.business_date,
        t.load_id,
        t.record_no
    from {{ this }} as t
    where
        t.complaint_id in (select r.complaint_id from renamed as r)
    {%- if loads.stale %}
        and t.load_id not in {{ load_list(loads.stale) }}
        {%- endif %}
    {%- endif %}
),

deduplicated as (
    -- rows with the same business key count once
    select distinct on (complaint_id) *
    from candidates
    order by complaint_id asc, {{ delivery_order() }}
),

final as (
    select
        *,
        now() as refreshed_at
    from deduplicated
)

select * from final
